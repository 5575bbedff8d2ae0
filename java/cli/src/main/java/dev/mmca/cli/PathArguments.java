package dev.mmca.cli;

import dev.mmca.io.AtomicFiles;
import dev.mmca.io.FileChecks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The path options of a command: checked before any work (inputs are readable regular files, outputs
 * can be replaced, and no output is an input or another output), and every failure reported as
 * {@code OPTION: PATH: what was expected, what was found}.
 */
final class PathArguments {
    private PathArguments() {
    }

    /** An option and its path. */
    record Named(String option, Path path) {
    }

    /** A failure attributed to an option; its message is the whole error line after {@code mmca CMD: error: }. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    interface Reader<T> {
        T read() throws IOException;
    }

    interface Writer {
        void write() throws IOException;
    }

    /**
     * Refuses, naming the options and paths: an input that is not a readable regular file, an output that
     * cannot be replaced (a missing directory, a directory, a symbolic link, a FIFO, a device), an output
     * that is one of the inputs, and two outputs that are the same file.
     */
    static void check(List<Named> inputs, List<Named> outputs) throws Failure {
        for (Named in : inputs) {
            try {
                FileChecks.requireRegularFile(in.path());
            } catch (IOException e) {
                throw new Failure(in.option() + ": " + message(e, in.path()), e);
            }
        }
        List<Named> seen = new ArrayList<>();
        for (Named out : outputs) {
            for (Named other : seen) {
                if (same(out.path(), other.path())) {
                    throw new Failure(out.option() + ": " + out.path() + ": expected a file other than "
                            + other.option() + " (" + other.path() + "), which one would overwrite with the other;"
                            + " got the same file for both", null);
                }
            }
            for (Named in : inputs) {
                if (same(out.path(), in.path())) {
                    throw new Failure(out.option() + ": " + out.path() + ": expected a file other than the input "
                            + in.option() + " (" + in.path() + "), which writing it would replace; got the same file",
                            null);
                }
            }
            try {
                AtomicFiles.checkTarget(out.path());
            } catch (IOException e) {
                throw new Failure(out.option() + ": " + message(e, out.path()), e);
            }
            seen.add(out);
        }
    }

    /** Runs a read of {@code path}, attributing any failure to {@code option}. */
    static <T> T reading(String option, Path path, Reader<T> reader) throws Failure {
        try {
            return reader.read();
        } catch (IOException | RuntimeException e) {
            throw new Failure(option + ": " + message(e, path), e);
        }
    }

    /** Runs a write of {@code path}, attributing any failure to {@code option}. */
    static void writing(String option, Path path, Writer writer) throws Failure {
        try {
            writer.write();
        } catch (IOException | RuntimeException e) {
            throw new Failure(option + ": " + message(e, path), e);
        }
    }

    /** Library argument names of validation messages ({@code text: expected ...}) and the options they come from. */
    private static final Map<String, String> ARGUMENTS = Map.of("visual", "--visual", "text", "--text",
            "visualMask", "--visual-mask", "textMask", "--text-mask", "tokens", "--tokens", "modality", "--modality");

    /**
     * A validation error of the inputs ({@code text: expected last dimension ...}) attributed to the option the
     * argument came from, with its path; an error naming no known argument is returned as it is.
     */
    static Exception attribute(IllegalArgumentException e, List<Named> inputs) {
        String m = String.valueOf(e.getMessage());
        int colon = m.indexOf(':');
        String option = colon > 0 ? ARGUMENTS.get(m.substring(0, colon)) : null;
        for (Named in : inputs) {
            if (in.option().equals(option)) {
                return new Failure(option + ": " + in.path() + ": " + m, e);
            }
        }
        return e;
    }

    /** The exception's message, with the path in front when the message does not name it already. */
    private static String message(Throwable e, Path path) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null && m.equals(f.getFile())) {
            // e.g. a bare NoSuchFileException("x.npy") from a library below: name what it is
            m = m + ": " + e.getClass().getSimpleName();
        }
        return m.contains(path.toString()) ? m : path + ": " + m;
    }

    /**
     * Whether two paths name the same file: by identity when both exist (hard links, links, other spellings),
     * else by their absolute form with the directory's links resolved.
     */
    static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (IOException e) {
            // fall through to the comparison of names
        }
        return canonical(a).equals(canonical(b));
    }

    private static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent != null && abs.getFileName() != null) {
            try {
                return parent.toRealPath().resolve(abs.getFileName());
            } catch (IOException e) {
                return abs;
            }
        }
        return abs;
    }
}
