package dev.latentpipeline.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Just enough of a Markdown reader for the docs tests: headings and their GitHub anchors, fenced code blocks,
 * tables, inline code spans and relative links. Fenced blocks are never read as prose.
 */
final class Markdown {
    static final Path README = Path.of("README.md");
    static final Path DOCS = Path.of("docs");

    private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`]+)`");
    private static final Pattern LINK = Pattern.compile("\\[([^\\]]*)\\]\\(([^)\\s]+)\\)");

    /** A fenced block: its info string (bash, json...), its lines, and the heading it sits under. */
    record Block(String language, List<String> lines, String section) {
        String text() {
            return String.join("\n", lines);
        }
    }

    record Heading(int level, String text, int line) {
    }

    final Path file;
    final List<String> lines;

    private Markdown(Path file, List<String> lines) {
        this.file = file;
        this.lines = lines;
    }

    static Markdown read(Path file) {
        try {
            return new Markdown(file, Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** README.md and every docs/*.md. */
    static List<Markdown> all() {
        List<Markdown> all = new ArrayList<>();
        all.add(read(README));
        try (Stream<Path> files = Files.list(DOCS)) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().map(Markdown::read).forEach(all::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all;
    }

    /** For each line: true when it is inside a fenced block or is a fence line itself. */
    private boolean[] fenced() {
        boolean[] fenced = new boolean[lines.size()];
        boolean in = false;
        for (int i = 0; i < lines.size(); i++) {
            boolean fence = lines.get(i).stripLeading().startsWith("```");
            fenced[i] = in || fence;
            if (fence) {
                in = !in;
            }
        }
        return fenced;
    }

    /** Lines of prose (not in a fenced block), HTML comments included. */
    List<String> prose() {
        boolean[] fenced = fenced();
        List<String> prose = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!fenced[i]) {
                prose.add(lines.get(i));
            }
        }
        return prose;
    }

    List<Heading> headings() {
        boolean[] fenced = fenced();
        List<Heading> headings = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = HEADING.matcher(lines.get(i));
            if (!fenced[i] && m.matches()) {
                headings.add(new Heading(m.group(1).length(), m.group(2), i));
            }
        }
        return headings;
    }

    /** The anchors GitHub gives this file's headings, duplicates numbered -1, -2, ... as GitHub does. */
    Set<String> anchors() {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (Heading h : headings()) {
            String slug = slug(h.text());
            int n = seen.merge(slug, 1, Integer::sum) - 1;
            anchors.add(n == 0 ? slug : slug + "-" + n);
        }
        return anchors;
    }

    /**
     * GitHub's heading anchor: lower case, code-span backticks and punctuation other than '-' and '_' removed,
     * each space a '-'.
     */
    static String slug(String heading) {
        String text = heading.strip().toLowerCase(Locale.ROOT);
        text = text.replaceAll("[^\\p{L}\\p{M}\\p{N}\\p{Pc} -]", "");
        return text.replace(' ', '-');
    }

    /** The lines from the heading named {@code title} (exactly) to the next heading of the same or a higher level. */
    Markdown section(String title) {
        List<Heading> headings = headings();
        for (int i = 0; i < headings.size(); i++) {
            Heading h = headings.get(i);
            if (h.text().equals(title)) {
                int end = lines.size();
                for (Heading next : headings.subList(i + 1, headings.size())) {
                    if (next.level() <= h.level()) {
                        end = next.line();
                        break;
                    }
                }
                return new Markdown(file, lines.subList(h.line(), end));
            }
        }
        throw new AssertionError(file + " has no heading \"" + title + "\"; headings: "
                + headings.stream().map(Heading::text).toList());
    }

    List<Block> blocks() {
        List<Block> blocks = new ArrayList<>();
        String section = "";
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher heading = HEADING.matcher(line);
            if (heading.matches()) {
                section = heading.group(2);
            }
            if (line.stripLeading().startsWith("```")) {
                String language = line.strip().substring(3).strip();
                List<String> body = new ArrayList<>();
                for (i++; i < lines.size() && !lines.get(i).stripLeading().startsWith("```"); i++) {
                    body.add(lines.get(i));
                }
                blocks.add(new Block(language, body, section));
            }
        }
        return blocks;
    }

    /** Rows of the first table after the heading {@code title}, header and separator left out, cells trimmed. */
    List<List<String>> table(String title) {
        List<List<String>> rows = new ArrayList<>();
        boolean started = false;
        for (String line : section(title).prose()) {
            if (line.startsWith("|")) {
                started = true;
                rows.add(cells(line));
            } else if (started) {
                break;
            }
        }
        if (rows.size() < 2) {
            throw new AssertionError(file + ", \"" + title + "\": no table");
        }
        return rows.subList(2, rows.size());
    }

    private static List<String> cells(String row) {
        String inner = row.strip();
        inner = inner.substring(1, inner.endsWith("|") ? inner.length() - 1 : inner.length());
        List<String> cells = new ArrayList<>();
        for (String cell : inner.split("\\|", -1)) {
            cells.add(cell.strip());
        }
        return cells;
    }

    /** Inline code spans of the prose, in order. */
    List<String> codeSpans() {
        List<String> spans = new ArrayList<>();
        for (String line : prose()) {
            spans.addAll(codeSpans(line));
        }
        return spans;
    }

    static List<String> codeSpans(String text) {
        List<String> spans = new ArrayList<>();
        Matcher m = CODE_SPAN.matcher(text);
        while (m.find()) {
            spans.add(m.group(1));
        }
        return spans;
    }

    /** Link targets of the prose (code spans removed first, so code that looks like a link is not one). */
    List<String> linkTargets() {
        List<String> targets = new ArrayList<>();
        for (String line : prose()) {
            Matcher m = LINK.matcher(CODE_SPAN.matcher(line).replaceAll(""));
            while (m.find()) {
                targets.add(m.group(2));
            }
        }
        return targets;
    }

    /**
     * The shell commands of the bash blocks: comment lines dropped, lines ending in a backslash joined with the
     * next, as a shell reads them.
     */
    static List<String> commands(Block block) {
        List<String> commands = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : block.lines()) {
            if (current.isEmpty() && (line.isBlank() || line.stripLeading().startsWith("#"))) {
                continue;
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1);
                continue;
            }
            current.append(line);
            commands.add(current.toString().strip());
            current.setLength(0);
        }
        if (!current.isEmpty()) {
            throw new AssertionError("a command ends in a backslash: " + current);
        }
        return commands;
    }
}
