package dev.mmca.spark;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local disk under the scheme {@value #SCHEME}: stands in for a cluster file system (HDFS,
 * S3) in tests, since paths with a scheme other than {@code file:} take the Hadoop file system
 * route (see {@link WeightsLocation}). Registered with {@code spark.hadoop.fs.mmcatest.impl}.
 */
public final class OtherSchemeFileSystem extends RawLocalFileSystem {
    static final String SCHEME = "mmcatest";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }
}
