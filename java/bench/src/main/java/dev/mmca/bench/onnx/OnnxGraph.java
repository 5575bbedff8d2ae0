package dev.mmca.bench.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A small builder of ONNX models (onnx.proto: ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto)
 * with static shapes: float inputs and outputs, float and int64 initializers, nodes with int, float and ints
 * attributes. Node output names are generated.
 */
final class OnnxGraph {
    /** TensorProto.DataType. */
    static final int FLOAT = 1;
    static final int INT64 = 7;
    /** AttributeProto.AttributeType. */
    private static final int ATTR_FLOAT = 1;
    private static final int ATTR_INT = 2;
    private static final int ATTR_INTS = 7;

    private final List<Protobuf> nodes = new ArrayList<>();
    private final List<Protobuf> initializers = new ArrayList<>();
    private final List<Protobuf> inputs = new ArrayList<>();
    private final List<Protobuf> outputs = new ArrayList<>();
    private int next;

    /** A graph input of float32 elements and a fixed shape; returns its name. */
    String input(String name, long... shape) {
        inputs.add(valueInfo(name, shape));
        return name;
    }

    /** Marks {@code value} as a graph output named {@code name} (through an Identity node). */
    void output(String name, String value, long... shape) {
        nodes.add(node("Identity", "", new String[] {value}, name, null));
        outputs.add(valueInfo(name, shape));
    }

    /** A float32 initializer (row-major data of the shape). */
    String constant(float[] data, long... shape) {
        ByteBuffer raw = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(data);
        return initializer(FLOAT, raw.array(), shape);
    }

    /** An int64 initializer, e.g. the target shape of a Reshape. */
    String ints(long... values) {
        ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        raw.asLongBuffer().put(values);
        return initializer(INT64, raw.array(), values.length);
    }

    private String initializer(int type, byte[] raw, long... shape) {
        String name = "c" + next++;
        Protobuf t = new Protobuf();
        for (long d : shape) {
            t.varint(1, d);
        }
        t.varint(2, type).string(8, name).bytes(9, raw);
        initializers.add(t);
        return name;
    }

    /** A node of the default domain; returns its (single) output. */
    String op(String type, Attrs attrs, String... in) {
        return op("", type, attrs, in);
    }

    /** A node of {@code domain} (e.g. {@code com.microsoft}); returns its (single) output. */
    String op(String domain, String type, Attrs attrs, String... in) {
        String out = "v" + next++;
        nodes.add(node(type, domain, in, out, attrs));
        return out;
    }

    private static Protobuf node(String type, String domain, String[] in, String out, Attrs attrs) {
        Protobuf n = new Protobuf();
        for (String i : in) {
            n.string(1, i);
        }
        n.string(2, out).string(4, type);
        if (attrs != null) {
            for (Protobuf a : attrs.list) {
                n.message(5, a);
            }
        }
        if (!domain.isEmpty()) {
            n.string(7, domain);
        }
        return n;
    }

    private static Protobuf valueInfo(String name, long... shape) {
        Protobuf dims = new Protobuf();
        for (long d : shape) {
            dims.message(1, new Protobuf().varint(1, d));
        }
        Protobuf tensor = new Protobuf().varint(1, FLOAT).message(2, dims);
        return new Protobuf().string(1, name).message(2, new Protobuf().message(1, tensor));
    }

    /** The serialised ModelProto: IR version 8, opset 17 of the default domain and version 1 of com.microsoft. */
    byte[] model(String graphName) {
        Protobuf g = new Protobuf();
        nodes.forEach(n -> g.message(1, n));
        g.string(2, graphName);
        initializers.forEach(t -> g.message(5, t));
        inputs.forEach(i -> g.message(11, i));
        outputs.forEach(o -> g.message(12, o));
        return new Protobuf()
                .varint(1, 8)
                .string(2, "mmca-jvm bench")
                .message(7, g)
                .message(8, new Protobuf().string(1, "").varint(2, 17))
                .message(8, new Protobuf().string(1, "com.microsoft").varint(2, 1))
                .toByteArray();
    }

    /** Node attributes. */
    static final class Attrs {
        private final List<Protobuf> list = new ArrayList<>();

        static Attrs of() {
            return new Attrs();
        }

        Attrs i(String name, long v) {
            list.add(new Protobuf().string(1, name).varint(3, v).varint(20, ATTR_INT));
            return this;
        }

        Attrs f(String name, float v) {
            list.add(new Protobuf().string(1, name).float32(2, v).varint(20, ATTR_FLOAT));
            return this;
        }

        Attrs ints(String name, long... v) {
            Protobuf a = new Protobuf().string(1, name);
            for (long x : v) {
                a.varint(8, x);
            }
            list.add(a.varint(20, ATTR_INTS));
            return this;
        }
    }
}
