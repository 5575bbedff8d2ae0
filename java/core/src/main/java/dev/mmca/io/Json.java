package dev.mmca.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) parser for file headers. Objects become insertion-ordered
 * {@code Map<String, Object>} (duplicate keys are rejected), arrays {@code List<Object>}, strings
 * {@code String}, {@code true}/{@code false} {@code Boolean}, {@code null} {@link #NULL}, and numbers
 * {@link Number} (kept as their literal, so that integers of any size are judged exactly).
 * Nesting is bounded, so hostile input cannot overflow the stack.
 */
final class Json {
    /** The JSON {@code null} value. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private static final int MAX_DEPTH = 64;

    /** A JSON number, as written. */
    static final class Number {
        private final String literal;

        Number(String literal) {
            this.literal = literal;
        }

        /** Whether the literal is an integer (no fraction, no exponent). */
        boolean isInteger() {
            for (int i = 0; i < literal.length(); i++) {
                char c = literal.charAt(i);
                if (c == '.' || c == 'e' || c == 'E') {
                    return false;
                }
            }
            return true;
        }

        /** The value as a long, or null when it is not an integer or does not fit. */
        Long longValueExact() {
            if (!isInteger()) {
                return null;
            }
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException e) {
                return null;
            }
        }

        @Override
        public String toString() {
            return literal;
        }
    }

    /** A syntax error, with the character offset where it was found. */
    static final class SyntaxException extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message, int offset) {
            super(message + " at character " + offset);
        }
    }

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** Parses one JSON value; only whitespace may follow it. */
    static Object parse(String text) throws SyntaxException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw new SyntaxException("expected the end of the JSON text, got " + p.describeHere(), p.pos);
        }
        return value;
    }

    /** A short description of a parsed value's type, for error messages. */
    static String typeName(Object value) {
        if (value instanceof Map) {
            return "an object";
        } else if (value instanceof List) {
            return "an array";
        } else if (value instanceof String) {
            return "a string";
        } else if (value instanceof Number) {
            return "the number " + value;
        } else if (value instanceof Boolean) {
            return value.toString();
        } else {
            return "null";
        }
    }

    private Object value(int depth) throws SyntaxException {
        if (pos >= text.length()) {
            throw new SyntaxException("expected a JSON value, got the end of the text", pos);
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return NULL;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw new SyntaxException("expected a JSON value, got " + describeHere(), pos);
        }
    }

    private Map<String, Object> object(int depth) throws SyntaxException {
        checkDepth(depth);
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw new SyntaxException("expected a string key, got " + describeHere(), pos);
            }
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth);
            if (map.put(key, v) != null) {
                throw new SyntaxException("duplicate key \"" + key + "\"", keyAt);
            }
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return map;
            } else {
                throw new SyntaxException("expected ',' or '}' in an object, got " + describeHere(), pos);
            }
        }
    }

    private List<Object> array(int depth) throws SyntaxException {
        checkDepth(depth);
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return Collections.unmodifiableList(list);
            } else {
                throw new SyntaxException("expected ',' or ']' in an array, got " + describeHere(), pos);
            }
        }
    }

    private void checkDepth(int depth) throws SyntaxException {
        if (depth > MAX_DEPTH) {
            throw new SyntaxException("expected at most " + MAX_DEPTH + " nested objects/arrays, got more", pos);
        }
    }

    private String string() throws SyntaxException {
        int start = pos;
        pos++; // opening quote
        StringBuilder sb = null;
        int runStart = pos;
        while (true) {
            if (pos >= text.length()) {
                throw new SyntaxException("unterminated string", start);
            }
            char c = text.charAt(pos);
            if (c == '"') {
                String s = sb == null ? text.substring(runStart, pos) : sb.append(text, runStart, pos).toString();
                pos++;
                return s;
            } else if (c == '\\') {
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(text, runStart, pos);
                pos++;
                char e = escape();
                if (Character.isHighSurrogate(e)) {
                    int at = pos;
                    if (!text.startsWith("\\u", pos)) {
                        throw new SyntaxException("expected a \\u low surrogate after a high surrogate escape", at);
                    }
                    pos++;
                    char low = escape();
                    if (!Character.isLowSurrogate(low)) {
                        throw new SyntaxException("expected a \\u low surrogate after a high surrogate escape", at);
                    }
                    sb.append(e).append(low);
                } else if (Character.isLowSurrogate(e)) {
                    throw new SyntaxException("expected no lone low surrogate escape", pos - 6);
                } else {
                    sb.append(e);
                }
                runStart = pos;
            } else if (c < 0x20) {
                throw new SyntaxException("expected no raw control character in a string, got U+"
                        + String.format("%04X", (int) c), pos);
            } else {
                pos++;
            }
        }
    }

    private char escape() throws SyntaxException {
        if (pos >= text.length()) {
            throw new SyntaxException("unterminated escape", pos);
        }
        char c = text.charAt(pos++);
        switch (c) {
            case '"': return '"';
            case '\\': return '\\';
            case '/': return '/';
            case 'b': return '\b';
            case 'f': return '\f';
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'u':
                if (pos + 4 > text.length()) {
                    throw new SyntaxException("expected 4 hex digits after \\u, got the end of the text", pos);
                }
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int d = Character.digit(text.charAt(pos + i), 16);
                    if (d < 0 || text.charAt(pos + i) > 'f') {
                        throw new SyntaxException("expected 4 hex digits after \\u, got '"
                                + text.substring(pos, pos + 4) + "'", pos);
                    }
                    v = v * 16 + d;
                }
                pos += 4;
                return (char) v;
            default:
                throw new SyntaxException("expected a JSON escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), got \\"
                        + printable(c), pos - 1);
        }
    }

    private Number number() throws SyntaxException {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) {
                pos++;
            }
        } else {
            throw new SyntaxException("expected a digit in a number, got " + describeHere(), pos);
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) {
                throw new SyntaxException("expected a digit after '.', got " + describeHere(), pos);
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw new SyntaxException("expected a digit in an exponent, got " + describeHere(), pos);
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        return new Number(text.substring(start, pos));
    }

    private void literal(String word) throws SyntaxException {
        if (!text.startsWith(word, pos)) {
            throw new SyntaxException("expected " + word + ", got " + describeHere(), pos);
        }
        pos += word.length();
    }

    private void expect(char c) throws SyntaxException {
        if (peek() != c) {
            throw new SyntaxException("expected '" + c + "', got " + describeHere(), pos);
        }
        pos++;
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\uFFFF';
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String describeHere() {
        if (pos >= text.length()) {
            return "the end of the text";
        }
        return "'" + printable(text.charAt(pos)) + "'";
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("U+%04X", (int) c);
    }

    /** Appends {@code s} as a JSON string literal (quotes included). */
    static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}
