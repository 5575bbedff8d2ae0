package dev.mmca.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mmca} command. */
@Command(name = "mmca", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Multi-modal causal attention with grouped-query attention (MMCA-MGQA) on the JVM.",
        subcommands = {DemoCommand.class, RunCommand.class, InfoCommand.class, BenchCommand.class, EmbedCommand.class, MakeSampleCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            // one line per log record on stderr ("INFO: mmca backend: cpu (...)")
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (0 success, 1 failure, 2 usage error). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("mmca " + commandLine.getCommandName() + ": error: " + message(ex));
            if (Boolean.getBoolean("mmca.stacktrace")) {
                ex.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }

    static String message(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            m = ex.getClass().getSimpleName();
        }
        Throwable c = ex.getCause();
        if (c != null && c.getMessage() != null && !m.contains(c.getMessage())) {
            m += " (" + c.getMessage() + ")";
        }
        return m;
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"mmca " + (v == null ? "(development build)" : v)};
        }
    }
}
