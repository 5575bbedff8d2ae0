package dev.mmca.spark;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the weights of a stage are. A plain path or a {@code file:} URI is on the local file
 * system of each machine (a shared mount, or the copy {@code spark-submit --files} ships, found by
 * file name); any other scheme ({@code hdfs:}, {@code s3a:}, ...) is a Hadoop file system, which
 * the driver ships to the executors with {@code SparkContext.addFile}.
 */
final class WeightsLocation {
    /** A URI scheme: two characters at least, so that a Windows drive letter is not one. */
    private static final Pattern SCHEME = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]+):");

    private WeightsLocation() {
    }

    /** The scheme in lower case, or null for a plain path. */
    static String scheme(String weights) {
        Matcher m = SCHEME.matcher(weights);
        return m.find() ? m.group(1).toLowerCase(Locale.ROOT) : null;
    }

    /** Whether the weights are on the local file system (a plain path or a {@code file:} URI). */
    static boolean isLocal(String weights) {
        String s = scheme(weights);
        return s == null || s.equals("file");
    }

    /** The local path of local weights. */
    static Path localPath(String weights) {
        if (scheme(weights) == null) {
            return Path.of(weights);
        }
        URI uri = uri(weights);
        if (!"file".equalsIgnoreCase(uri.getScheme()) || uri.getPath() == null || !uri.getPath().startsWith("/")) {
            throw new IllegalArgumentException("weights: expected a local path or an absolute file: URI, got '"
                    + weights + "'");
        }
        return Path.of(uri.getPath());
    }

    /** The file name: what {@code --files} and {@code addFile} ship it as. */
    static String fileName(String weights) {
        String path = scheme(weights) == null ? weights : uri(weights).getPath();
        if (path == null) {
            path = weights;
        }
        String trimmed = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return trimmed.substring(trimmed.lastIndexOf('/') + 1);
    }

    private static URI uri(String weights) {
        try {
            return new URI(weights);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("weights: expected a path or a URI, got '" + weights + "': "
                    + e.getMessage(), e);
        }
    }
}
