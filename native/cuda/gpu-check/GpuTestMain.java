import static org.junit.platform.engine.discovery.ClassNameFilter.excludeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the JUnit tests of one package on the JUnit Platform launcher API (junit-platform-launcher,
 * which Maven's test runner already fetches), one line per test, then the summary. For the GPU check
 * bundle, which carries no Maven.
 *
 * <p>Usage: {@code GpuTestMain [PACKAGE [EXCLUDED_CLASS_NAME_REGEX]]} (default {@code dev.mmca.cuda},
 * {@code .*IT$}). Exit status 0 when at least one test ran and none failed, 1 otherwise.
 */
public final class GpuTestMain {
    private GpuTestMain() {
    }

    public static void main(String[] args) {
        String pkg = args.length > 0 ? args[0] : "dev.mmca.cuda";
        String excluded = args.length > 1 ? args[1] : ".*IT$";
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage(pkg))
                .filters(excludeClassNamePatterns(excluded))
                .build();
        PrintWriter out = new PrintWriter(System.out, true);
        TestExecutionListener lines = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier test, String reason) {
                out.println("SKIPPED " + test.getDisplayName() + ": " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                if (!test.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                    return;
                }
                String where = test.getUniqueId().replaceAll(".*\\[class:([^\\]]*)\\].*\\[method:([^\\]]*)\\].*", "$1.$2");
                String why = result.getThrowable().map(t -> ": " + t).orElse("");
                out.println(result.getStatus() + " " + where + why);
            }
        };
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, lines, summary);
        TestExecutionSummary s = summary.getSummary();
        s.printTo(out);
        s.printFailuresTo(out, 25);
        out.flush();
        System.exit(s.getTestsFoundCount() > 0 && s.getTotalFailureCount() == 0 ? 0 : 1);
    }
}
