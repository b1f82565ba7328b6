package dev.latentpipeline.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Generated prompts for the differential tokenizer tests, the same list for a given seed: English prompt words mixed
 * with the scripts people type, emoji sequences, combining marks, full-width forms, number and punctuation runs,
 * whitespace and control characters of every kind, in varied case, sometimes decomposed (NFD), sometimes far past
 * 77 tokens. Only characters assigned in Unicode 13 (Java 17's tables) are used, so the comparison is about
 * tokenizer rules, not about which Unicode version each side ships.
 */
final class PromptCorpus {
    enum Kind { ENGLISH, LATIN_ACCENTS, CYRILLIC, GREEK, ARABIC, HEBREW, DEVANAGARI, THAI, HANGUL, HAN, KANA, EMOJI,
        COMBINING, FULL_WIDTH, NUMBERS_PUNCTUATION, WHITESPACE, CONTROL }

    private static final String[][] FRAGMENTS = new String[Kind.values().length][];

    static {
        set(Kind.ENGLISH, "a photo of", "cat", "dog", "highly detailed", "masterpiece", "best quality",
                "trending on artstation", "octane render", "by greg rutkowski", "studio ghibli", "portrait", "sunset",
                "cyberpunk city", "oil painting", "watercolor", "volumetric lighting", "bokeh", "unreal engine",
                "A RED SQUARE", "Green", "blue", "Astronaut Riding A Horse", "it's", "don't", "I'M", "we'RE",
                "they've", "you'll", "he'd", "o'clock", "rock'n'roll", "Mc'Donald", "isn't", "8k", "4K UHD", "hdr");
        set(Kind.LATIN_ACCENTS, "café", "naïve", "Straße", "jalapeño", "smörgåsbord", "Ærøskøbing", "façade",
                "crème brûlée", "Dvořák", "Łódź", "Tiếng Việt", "phở", "Nguyễn", "São Paulo", "İstanbul", "ĳsselmeer",
                "ﬁne", "ﬂower", "Ǆemal", "Œuvre", "Ångström", "coöperate", "Señor", "ÉCOLE", "ŞEHİR", "ǅ", "ǉ");
        set(Kind.CYRILLIC, "кошка", "Москва", "ЁЛКА", "щенок", "Україна", "їжак", "Ђорђе", "ЖИРАФ", "ѣ");
        set(Kind.GREEK, "ΟΔΟΣ", "Σίσυφος", "ΣΟΦΙΑ", "γάτα", "ΑΣ", "ς", "ᾼ", "ΣΣ", "Σ.", "ΌΣΟΙ ΕΊΝΑΙ", "ἄνθρωπος");
        set(Kind.ARABIC, "قطة", "مَدْرَسَة", "السلام عليكم", "٣٤٥", "ﷺ", "لا", "قِطَّة");
        set(Kind.HEBREW, "חתול", "שָׁלוֹם", "ירושלים", "ﬡ");
        set(Kind.DEVANAGARI, "बिल्ली", "नमस्ते", "क्षत्रिय", "१२३", "हिन्दी", "ॐ");
        set(Kind.THAI, "แมว", "สวัสดีครับ", "๑๒๓", "กรุงเทพมหานคร", "น้ำ");
        set(Kind.HANGUL, "고양이", "한국어", "\u1112\u1161\u11AB\u1100\u116E\u11A8", "ﾡﾢ", "ㄱㄴㄷ", "서울 타워");
        set(Kind.HAN, "猫", "日本", "一只可爱的猫", "山水画", "龍", "中国", "水墨画风格", "𠮷野家", "〇", "々");
        set(Kind.KANA, "ねこ", "カタカナ", "ｶﾀｶﾅ", "か\u3099", "ｶﾞｷﾞ", "東京タワー", "ー", "ゝ", "ㇰ");
        set(Kind.EMOJI, "🐱", "👍🏽", "👨\u200D👩\u200D👧\u200D👦", "🏳️\u200D🌈", "🇯🇵", "❤️", "1️⃣", "🧑🏿\u200D🚀",
                "😀😃😄", "✨", "☕", "🐈\u200D⬛", "👩🏻\u200D❤️\u200D💋\u200D👨🏼", "#️⃣", "🏴\uDB40\uDC67\uDB40\uDC62"
                + "\uDB40\uDC77\uDB40\uDC6C\uDB40\uDC73\uDB40\uDC7F", "☺︎", "♀", "🤷\u200D♂️");
        set(Kind.COMBINING, "e\u0301", "a\u0308\u0304", "\u0301", "x\u0345", "α\u0345", "ᾳ",
                "Z\u0335\u0351\u0315a\u0360\u0362l\u0317g\u0334o", "n\u0303", "\u20DD", "o\u0338", "i\u0307",
                "A\u030A\u0301");
        set(Kind.FULL_WIDTH, "ＡＢＣ", "ｈｅｌｌｏ", "１２３", "！？", "（ｃａｔ：１．２）", "＂quoted＂", "ｉｔ＇ｓ",
                "￥１００", "￦", "＜ｔａｇ＞", "～", "｡｢｣", "ﾟ");
        set(Kind.NUMBERS_PUNCTUATION, "1,000.50", "3.14159", "100%", "(((masterpiece)))", "[best quality]",
                "{cat|dog}", "!!!", "...", "--", "—", "–", "…", "«»", "“quoted”", "it’s", "‘single’", "'s", "#hashtag",
                "@user", "$5", "€10", "¥", "©", "®", "™", "°C", "½", "²", "Ⅻ", "①", "ℕ", "&amp;", "&lt;b&gt;",
                "a_b", "c++", "<lora:x:0.8>", "(cat:1.2)", "\\", "/", "^_^", ":-)", "2024-01-01", "12:30", "ʼokina",
                "a.b.c", "??!!", "~~~", "***", "\"\"", "''", "'", "`", "´");
        set(Kind.WHITESPACE, " ", "  ", "\t", "\n", "\r\n", "\r", "\u00A0", "\u2009", "\u3000", "\u2028", "\u2029",
                "\u000B", "\u000C", "\u0085", "\u1680", "\u202F", "\u205F", "\u2000", "\u200A", "\u200B", "\uFEFF",
                "\u180E", "\u001C", "\u001F", " \t\n ");
        set(Kind.CONTROL, "\u0000", "\u0007", "\u001B[31m", "\u001B[0m", "\u007F", "\u0080", "\u0093", "\u0094",
                "\u0081", "\u200E", "\u202E", "\u2066", "\u206A", "\uFFFC", "\u00AD", "\u200C", "\u200D");
    }

    private static void set(Kind kind, String... fragments) {
        FRAGMENTS[kind.ordinal()] = fragments;
    }

    record Prompt(String text, Kind mainKind) {
    }

    private PromptCorpus() {
    }

    static List<Prompt> generate(int count, long seed) {
        Random random = new Random(seed);
        List<Prompt> prompts = new ArrayList<>(count);
        // Every fragment alone, in two cases, then mixtures.
        for (Kind kind : Kind.values()) {
            for (String fragment : FRAGMENTS[kind.ordinal()]) {
                prompts.add(new Prompt(fragment, kind));
                prompts.add(new Prompt(fragment.toUpperCase(Locale.ROOT), kind));
            }
        }
        while (prompts.size() < count) {
            Kind main = Kind.values()[random.nextInt(Kind.values().length)];
            boolean longPrompt = random.nextInt(12) == 0;
            int pieces = longPrompt ? 40 + random.nextInt(90) : 1 + random.nextInt(10);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < pieces; i++) {
                Kind kind = random.nextInt(3) == 0 ? Kind.values()[random.nextInt(Kind.values().length)] : main;
                if (i > 0) {
                    text.append(separator(random));
                }
                text.append(fragment(random, kind));
            }
            prompts.add(new Prompt(text.toString(), main));
        }
        return prompts;
    }

    private static String fragment(Random random, Kind kind) {
        String[] pool = FRAGMENTS[kind.ordinal()];
        String f = pool[random.nextInt(pool.length)];
        switch (random.nextInt(8)) {
            case 0 -> f = f.toUpperCase(Locale.ROOT);
            case 1 -> f = f.toLowerCase(Locale.ROOT);
            case 2 -> f = Normalizer.normalize(f, Normalizer.Form.NFD);
            case 3 -> f = f + f;
            default -> { }
        }
        return f;
    }

    private static String separator(Random random) {
        return switch (random.nextInt(10)) {
            case 0 -> "";
            case 1 -> ", ";
            case 2 -> FRAGMENTS[Kind.WHITESPACE.ordinal()][random.nextInt(FRAGMENTS[Kind.WHITESPACE.ordinal()].length)];
            case 3 -> ",";
            default -> " ";
        };
    }
}
