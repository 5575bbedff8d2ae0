package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesEveryValueKind() throws Json.SyntaxException {
        Object v = Json.parse(" {\"a\": [1, -2.5e3, 0, true, false, null], \"b\": {\"c\": \"x\\ty\\u00e9\\ud83d\\ude00\\/\"}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        List<?> a = (List<?>) m.get("a");
        assertEquals("1", a.get(0).toString());
        assertEquals(1L, ((Json.Number) a.get(0)).longValueExact());
        assertEquals("-2.5e3", a.get(1).toString());
        assertEquals(null, ((Json.Number) a.get(1)).longValueExact(), "not an integer");
        assertEquals(Boolean.TRUE, a.get(3));
        assertEquals(Boolean.FALSE, a.get(4));
        assertSame(Json.NULL, a.get(5));
        assertEquals("x\ty\u00e9\ud83d\ude00/", ((Map<?, ?>) m.get("b")).get("c"));
        assertEquals(List.of("a", "b"), List.copyOf(m.keySet()), "key order is kept");
    }

    @Test
    void integersBeyondLongAreNotSilentlyTruncated() throws Json.SyntaxException {
        List<?> a = (List<?>) Json.parse("[9223372036854775807, 9223372036854775808, -9223372036854775809]");
        assertEquals(Long.MAX_VALUE, ((Json.Number) a.get(0)).longValueExact());
        assertEquals(null, ((Json.Number) a.get(1)).longValueExact());
        assertEquals(null, ((Json.Number) a.get(2)).longValueExact());
    }

    @Test
    void rejectsWhatRfc8259Rejects() {
        String[] bad = {"", "{", "{\"a\":}", "{\"a\":1,}", "[1,]", "[01]", "[1.]", "[.5]", "[+1]", "[1e]", "[-]",
            "{'a':1}", "{\"a\":tru}", "[NaN]", "[Infinity]", "\"a\tb\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\q\"",
            "\"\\udc00\"", "\"\\ud800x\"", "[1] [2]", "{\"a\":1 \"b\":2}", "{1:2}", "\"unterminated"};
        for (String s : bad) {
            assertThrows(Json.SyntaxException.class, () -> Json.parse(s), s);
        }
    }

    @Test
    void nestingIsBounded() throws Json.SyntaxException {
        Json.parse("[".repeat(64) + "]".repeat(64));
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse("[".repeat(65) + "]".repeat(65)));
        assertTrue(e.getMessage().contains("nested"), e.getMessage());
        assertThrows(Json.SyntaxException.class, () -> Json.parse("[".repeat(1_000_000)));
    }

    @Test
    void quotedStringsParseBackToTheOriginal() throws Json.SyntaxException {
        String original = "q\"b\\s/\n\r\t\u0000\u001f\u007f\u00e9\ud83d\ude00";
        StringBuilder sb = new StringBuilder();
        Json.quote(sb, original);
        assertEquals(original, Json.parse(sb.toString()));
    }
}
