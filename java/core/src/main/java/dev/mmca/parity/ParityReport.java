package dev.mmca.parity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The outcome of a {@link ParityCheck}: one row per path and output (or per path, for a path that did not run),
 * a verdict, and the two renderings of {@code mmca parity} (a table and JSON).
 */
public final class ParityReport {
    /** What became of one row. */
    public enum Status {
        /** Within the bound, and bit-identical across the thread counts that ran. */
        PASS,
        /** Outside the bound, or different bits for different thread counts. */
        FAIL,
        /** The path could not compute (an exception), or a backend asked for by name is not available. */
        ERROR,
        /** Not run: the host cannot run the path. */
        SKIPPED,
        /** The scenario does not apply to the model or is not supported by the backend. */
        NOT_APPLICABLE;

        public boolean failed() {
            return this == FAIL || this == ERROR;
        }

        String label() {
            switch (this) {
                case PASS: return "ok";
                case FAIL: return "FAIL";
                case ERROR: return "ERROR";
                case SKIPPED: return "skipped";
                default: return "n/a";
            }
        }
    }

    /**
     * One row: the path, the output ({@code forward.text}; {@code *} for the whole path), the status, and for a
     * compared output what it was compared with, how far it is, the bound, whether the thread counts gave the same
     * bits (null: not applicable or not checked) and the milliseconds of its scenario per thread count.
     */
    public record Row(String path, String backend, Precision precision, String output, Status status, String against,
            Comparison comparison, double tolerance, Boolean threadsIdentical, String threadsNote,
            Map<Integer, Double> millis, String message) {
        public Row {
            millis = millis == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(millis));
        }

        static Row note(KernelPath path, String output, Status status, String message) {
            return new Row(path.id(), path.backendName(), path.precision(), output, status, null, null, Double.NaN,
                    null, null, null, message);
        }

        static Row compared(KernelPath path, String output, String against, Comparison c, double tolerance,
                Boolean identical, String threadsNote, Map<Integer, Double> millis) {
            boolean within = c.within(tolerance);
            boolean sameBits = !Boolean.FALSE.equals(identical);
            Status status = within && sameBits ? Status.PASS : Status.FAIL;
            String message = null;
            if (!within) {
                message = String.format(Locale.ROOT, "relative error %.3e against %s is above the %s bound %.0e",
                        c.relativeError(), against, path.precision().label(), tolerance);
            }
            if (!sameBits) {
                message = (message == null ? "" : message + "; ") + "not bit-identical across thread counts: "
                        + threadsNote;
            }
            return new Row(path.id(), path.backendName(), path.precision(), output, status, against, c, tolerance,
                    identical, threadsNote, millis, message);
        }
    }

    private final List<Row> rows;

    ParityReport(List<Row> rows) {
        this.rows = List.copyOf(rows);
    }

    public List<Row> rows() {
        return rows;
    }

    /** Whether no row failed (skipped and inapplicable rows do not fail a check). */
    public boolean passed() {
        return rows.stream().noneMatch(r -> r.status().failed());
    }

    /** The rows that failed. */
    public List<Row> failures() {
        return rows.stream().filter(r -> r.status().failed()).toList();
    }

    /** The paths with a failed row, in report order, e.g. {@code [cpu/avx2]}. */
    public Set<String> failedPaths() {
        Set<String> paths = new LinkedHashSet<>();
        for (Row r : failures()) {
            paths.add(r.path());
        }
        return paths;
    }

    /** Whether at least one output was compared (so a pass means something). */
    public boolean comparedAny() {
        return rows.stream().anyMatch(r -> r.comparison() != null);
    }

    /** The report as an aligned table, one row per line, with a header. */
    public String table() {
        String[] header = {"path", "precision", "output", "against", "rel_error", "max_abs", "at [b, t, c]",
            "bound", "result", "threads", "ms"};
        List<String[]> cells = new ArrayList<>();
        cells.add(header);
        List<String> notes = new ArrayList<>();
        for (Row r : rows) {
            if (r.comparison() == null) {
                cells.add(new String[] {r.path(), r.precision().label(), r.output(), "", "", "", "", "",
                    r.status().label(), "", ""});
                notes.add(r.path() + " " + r.output() + ": " + r.status().label() + ": " + r.message());
                continue;
            }
            Comparison c = r.comparison();
            String identical = r.threadsIdentical() == null ? "-" : r.threadsIdentical() ? "identical" : "DIFFER";
            String ms = String.join("/", r.millis().values().stream()
                    .map(v -> String.format(Locale.ROOT, "%.2f", v)).toList());
            cells.add(new String[] {r.path(), r.precision().label(), r.output(), r.against(),
                num(c.relativeError()), num(c.maxAbsError()),
                c.maxAbsIndex() < 0 ? "-" : Arrays.toString(c.maxAbsPosition()),
                String.format(Locale.ROOT, "%.0e", r.tolerance()), r.status().label(), identical, ms});
            if (r.message() != null) {
                notes.add(r.path() + " " + r.output() + ": " + r.status().label() + ": " + r.message());
            }
        }
        int[] width = new int[header.length];
        for (String[] row : cells) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : cells) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(row[i]);
                if (i < row.length - 1) {
                    line.append(" ".repeat(width[i] - row[i].length() + 2));
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        for (String n : notes) {
            sb.append(n).append('\n');
        }
        return sb.toString();
    }

    /** The report as one JSON object: {@code header} entries (strings), {@code passed}, and {@code rows}. */
    public String json(Map<String, String> header) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, String> e : header.entrySet()) {
            quote(sb, e.getKey());
            sb.append(':');
            quote(sb, e.getValue());
            sb.append(',');
        }
        sb.append("\"passed\":").append(passed()).append(",\"failed_paths\":[");
        boolean first = true;
        for (String p : failedPaths()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            quote(sb, p);
        }
        sb.append("],\"rows\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(i == 0 ? "\n" : ",\n").append('{');
            field(sb, "path", r.path());
            sb.append(',');
            field(sb, "backend", r.backend());
            sb.append(',');
            field(sb, "precision", r.precision().label());
            sb.append(',');
            field(sb, "output", r.output());
            sb.append(',');
            field(sb, "status", r.status().name().toLowerCase(Locale.ROOT));
            if (r.comparison() != null) {
                Comparison c = r.comparison();
                sb.append(',');
                field(sb, "against", r.against());
                sb.append(",\"relative_error\":").append(json(c.relativeError()));
                sb.append(",\"max_abs_error\":").append(json(c.maxAbsError()));
                sb.append(",\"max_abs_at\":").append(c.maxAbsIndex() < 0 ? "null"
                        : Arrays.toString(c.maxAbsPosition()).replace(" ", ""));
                sb.append(",\"tolerance\":").append(json(r.tolerance()));
                sb.append(",\"threads_identical\":").append(r.threadsIdentical());
                sb.append(',');
                field(sb, "threads", r.threadsNote());
                sb.append(",\"ms\":{");
                boolean firstMs = true;
                for (Map.Entry<Integer, Double> m : r.millis().entrySet()) {
                    if (!firstMs) {
                        sb.append(',');
                    }
                    firstMs = false;
                    quote(sb, m.getKey() == 0 ? "default" : String.valueOf(m.getKey()));
                    sb.append(':').append(String.format(Locale.ROOT, "%.3f", m.getValue()));
                }
                sb.append('}');
            }
            if (r.message() != null) {
                sb.append(',');
                field(sb, "message", r.message());
            }
            sb.append('}');
        }
        sb.append("\n]}");
        return sb.toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2e", v) : "inf";
    }

    /** A finite number as Java prints it (it reads back exactly); a non-finite one as the string "inf". */
    private static String json(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "\"inf\"";
    }

    private static void field(StringBuilder sb, String key, String value) {
        quote(sb, key);
        sb.append(':');
        if (value == null) {
            sb.append("null");
        } else {
            quote(sb, value);
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }
}
