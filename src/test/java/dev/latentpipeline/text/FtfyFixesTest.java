package dev.latentpipeline.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Expected outputs are what ftfy 6.3.1's own {@code fix_text} returned for the same inputs (the first seven are
 * ftfy's documentation examples), so they do not come from this implementation.
 */
class FtfyFixesTest {

    static Stream<Arguments> fixTextReference() {
        return Stream.of(
                Arguments.of("\u201chere\u2019s a test\u201d", "\"here's a test\""),
                Arguments.of("\ufb02u\ufb03e\ufb06", "fluffiest"),
                Arguments.of("\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33", "LOUD NOISES"),
                Arguments.of("\uff35\uff80\uff70\uff9d", "U\u30bf\u30fc\u30f3"),
                Arguments.of("\u001b[36;44mI'm blue, da ba dee da ba doo...\u001b[0m",
                        "I'm blue, da ba dee da ba doo..."),
                Arguments.of("Content-type: text/plain\r\n\r\nHi.", "Content-type: text/plain\n\nHi."),
                Arguments.of("What is this \u0085 I don't even", "What is this \u2026 I don't even"),
                Arguments.of("price \u0080 5 \u0081 \u009d", "price \u20ac 5 \u0081 \u009d"),
                Arguments.of("\ufeffBOM\u0000NUL\u0007bell\u000bvt\u001cfs\u007fdel\u206a\ufffc", "BOMNULbellvtfsdel"),
                Arguments.of("line\u2028sep\u2029para", "line\nsep\npara"),
                Arguments.of("cafe\u0301 \u01c4emal \u0133s", "caf\u00e9 D\u017demal ijs"),
                Arguments.of("\uff76\uff9e\uff77\uff9e\uff78\uff9e \uff8a\uff9f", "\u30ac\u30ae\u30b0 \u30d1"),
                Arguments.of("\uff28\uff45\uff4c\uff4c\uff4f\uff0c\u3000\uff57\uff4f\uff52\uff4c\uff44\uff01 "
                        + "\uffe5\uff11\uff10\uff10 \uffe6", "Hello, world! \u00a5100 \u20a9"),
                Arguments.of("\u02bcokina \u201b\u201f", "'okina '\""),
                Arguments.of("A\u030a\u0301", "\u01fa"),
                Arguments.of("tab\tstays\fformfeed", "tab\tstays\fformfeed"));
    }

    @ParameterizedTest
    @MethodSource
    void fixTextReference(String input, String ftfyOutput) {
        assertEquals(ftfyOutput, FtfyFixes.fixText(input));
    }

    @ParameterizedTest
    @MethodSource("fixTextReference")
    void fixingTwiceChangesNothing(String input, String ftfyOutput) {
        assertEquals(ftfyOutput, FtfyFixes.fixText(ftfyOutput));
    }

    @org.junit.jupiter.api.Test
    void loneSurrogatesBecomeReplacementCharacters() {
        // ftfy's fix_surrogates: a pair is one character (a Java string already holds it so), a lone half is U+FFFD.
        assertEquals("\ud83d\udca9", FtfyFixes.fixText("\ud83d\udca9"));
        assertEquals("\ufffd\ufffd", FtfyFixes.fixText("\udca9\ud83d"));
    }
}
