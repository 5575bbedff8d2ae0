package dev.mmca.io;

import java.util.ArrayList;
import java.util.List;

/**
 * The header dictionary of a {@code .npy} file, a Python literal such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. Parsed by a strict grammar,
 * not evaluated: exactly the keys {@code descr}, {@code fortran_order}, {@code shape}, each once;
 * string, {@code True}/{@code False} and tuple-of-integer values only; at most 64 dimensions.
 */
final class NpyHeader {
    /** numpy's own limit on the number of dimensions. */
    static final int MAX_RANK = 64;

    final String descr;
    final boolean fortranOrder;
    final long[] shape;

    private NpyHeader(String descr, boolean fortranOrder, long[] shape) {
        this.descr = descr;
        this.fortranOrder = fortranOrder;
        this.shape = shape;
    }

    /** A syntax or content error in the header, with the character offset where it was found. */
    static final class HeaderException extends Exception {
        private static final long serialVersionUID = 1L;

        HeaderException(String message) {
            super(message);
        }
    }

    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        HeaderException error(String expected) {
            return new HeaderException("expected " + expected + " at character " + pos + ", got " + here());
        }

        String here() {
            if (pos >= text.length()) {
                return "the end of the header";
            }
            char c = text.charAt(pos);
            return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
        }

        char peek() {
            return pos < text.length() ? text.charAt(pos) : '\uFFFF';
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    return;
                }
            }
        }

        void expect(char c) throws HeaderException {
            if (peek() != c) {
                throw error("'" + c + "'");
            }
            pos++;
        }

        String string() throws HeaderException {
            char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw error("a quoted string");
            }
            int start = ++pos;
            while (pos < text.length() && text.charAt(pos) != quote) {
                char c = text.charAt(pos);
                if (c == '\\' || c == '\n' || c == '\r') {
                    throw error("a plain string (no escapes or line breaks)");
                }
                pos++;
            }
            if (pos >= text.length()) {
                pos = start - 1;
                throw error("a terminated string");
            }
            return text.substring(start, pos++);
        }

        boolean bool() throws HeaderException {
            if (text.startsWith("True", pos)) {
                pos += 4;
                return true;
            }
            if (text.startsWith("False", pos)) {
                pos += 5;
                return false;
            }
            throw error("True or False");
        }

        long integer() throws HeaderException {
            int start = pos;
            while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
                pos++;
            }
            int digits = pos - start;
            if (digits == 0) {
                throw error("a non-negative integer");
            }
            if (digits > 1 && text.charAt(start) == '0') {
                pos = start;
                throw error("an integer without leading zeros");
            }
            if (digits > 18) {
                pos = start;
                throw error("an integer of at most 18 digits");
            }
            long v = Long.parseLong(text.substring(start, pos));
            if (peek() == 'L') {
                pos++; // Python 2 long literal, as written by old numpy versions
            }
            return v;
        }

        /** A tuple of integers; a one-element tuple needs its trailing comma, as in Python. */
        long[] tuple() throws HeaderException {
            expect('(');
            List<Long> dims = new ArrayList<>();
            boolean trailingComma = false;
            skipWhitespace();
            while (peek() != ')') {
                if (dims.size() >= MAX_RANK) {
                    throw error("at most " + MAX_RANK + " dimensions");
                }
                dims.add(integer());
                skipWhitespace();
                trailingComma = false;
                if (peek() == ',') {
                    pos++;
                    trailingComma = true;
                    skipWhitespace();
                } else if (peek() != ')') {
                    throw error("',' or ')' in the shape tuple");
                }
            }
            if (dims.size() == 1 && !trailingComma) {
                throw error("a tuple: '(n,)' with a comma (a parenthesised integer is not a tuple)");
            }
            pos++;
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = dims.get(i);
            }
            return shape;
        }
    }

    /** Parses and checks the header text (everything after the length field). */
    static NpyHeader parse(String text) throws HeaderException {
        Parser p = new Parser(text);
        p.skipWhitespace();
        p.expect('{');
        String descr = null;
        Boolean fortran = null;
        long[] shape = null;
        p.skipWhitespace();
        while (p.peek() != '}') {
            int keyAt = p.pos;
            String key = p.string();
            p.skipWhitespace();
            p.expect(':');
            p.skipWhitespace();
            switch (key) {
                case "descr":
                    if (descr != null) {
                        throw duplicate(key, keyAt);
                    }
                    if (p.peek() == '[') {
                        throw new HeaderException("descr: expected a simple dtype string such as '<f4', got a list"
                                + " (structured dtypes are not supported)");
                    }
                    descr = p.string();
                    break;
                case "fortran_order":
                    if (fortran != null) {
                        throw duplicate(key, keyAt);
                    }
                    fortran = p.bool();
                    break;
                case "shape":
                    if (shape != null) {
                        throw duplicate(key, keyAt);
                    }
                    shape = p.tuple();
                    break;
                default:
                    throw new HeaderException("expected only the keys 'descr', 'fortran_order' and 'shape', got '"
                            + printable(key) + "'");
            }
            p.skipWhitespace();
            if (p.peek() == ',') {
                p.pos++;
                p.skipWhitespace();
            } else if (p.peek() != '}') {
                throw p.error("',' or '}' in the header dictionary");
            }
        }
        p.pos++;
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("only padding after the header dictionary");
        }
        if (descr == null || fortran == null || shape == null) {
            throw new HeaderException("expected the keys 'descr', 'fortran_order' and 'shape', missing "
                    + (descr == null ? "'descr'" : fortran == null ? "'fortran_order'" : "'shape'"));
        }
        return new NpyHeader(descr, fortran, shape);
    }

    private static HeaderException duplicate(String key, int at) {
        return new HeaderException("expected each key once, got '" + key + "' again at character " + at);
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 40; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return s.length() > 40 ? sb + "..." : sb.toString();
    }

    /** Formats a header dictionary as numpy writes it (C order). */
    static String format(String descr, int[] shape) {
        StringBuilder sb = new StringBuilder("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        if (shape.length == 1) {
            sb.append(',');
        }
        return sb.append("), }").toString();
    }
}
