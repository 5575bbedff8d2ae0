package dev.mmca.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mmca} command. */
@Command(name = "mmca", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Multi-modal causal attention with grouped-query attention (MMCA-MGQA) on the JVM.",
        subcommands = {DemoCommand.class, RunCommand.class, DecodeCommand.class, InfoCommand.class, BenchCommand.class,
            EmbedCommand.class, MakeSampleCommand.class, ParityCommand.class, ParityWorkerCommand.class,
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
        return execute(new CommandLine(new Main()), args);
    }

    /**
     * Runs {@code cl} with the error handling of the command: an exception prints one line,
     * {@code mmca CMD: error: MESSAGE}, and so does an error of the JVM (out of memory, a class missing
     * from the class path), never a stack trace unless {@code -Dmmca.stacktrace=true}.
     */
    static int execute(CommandLine cl, String... args) {
        cl.setParameterExceptionHandler((ex, arguments) -> {
            CommandLine c = ex.getCommandLine();
            String name = c.getParent() == null ? c.getCommandName() : "mmca " + c.getCommandName();
            c.getErr().println(name + ": error: " + ex.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, c.getErr())) {
                c.getErr().println("Run '" + name + " --help' for the options.");
            }
            c.getErr().flush();
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("mmca " + commandLine.getCommandName() + ": error: " + message(ex));
            if (Boolean.getBoolean("mmca.stacktrace")) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (VirtualMachineError | LinkageError e) {
            CommandLine.ParseResult parsed = cl.getParseResult();
            while (parsed != null && parsed.subcommand() != null) {
                parsed = parsed.subcommand();
            }
            CommandLine command = parsed == null ? cl : parsed.commandSpec().commandLine();
            String name = command == cl ? cl.getCommandName() : "mmca " + command.getCommandName();
            command.getErr().println(name + ": error: " + describeError(e));
            if (Boolean.getBoolean("mmca.stacktrace")) {
                e.printStackTrace(command.getErr());
            }
            command.getErr().flush();
            return 1;
        }
    }

    /** What an error of the JVM means for the user, and what to do about it. */
    static String describeError(Throwable e) {
        long maxMiB = Runtime.getRuntime().maxMemory() >> 20;
        if (e instanceof OutOfMemoryError) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("native thread")) {
                return "out of memory: cannot start another thread (" + m + "); use fewer threads";
            }
            return "out of memory (" + m + "; the heap's maximum is " + maxMiB + " MiB): give the JVM more with"
                    + " -Xmx (the mmca launcher passes MMCA_JAVA_OPTS, e.g. MMCA_JAVA_OPTS=-Xmx" + Math.max(2,
                    2 * maxMiB >> 10) + "g) or use smaller inputs";
        }
        if (e instanceof StackOverflowError) {
            return "stack overflow (" + e.getClass().getSimpleName() + "); run with -Dmmca.stacktrace=true to see where";
        }
        if (e instanceof LinkageError) {
            return "a class is missing or incompatible (" + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + "): check the class path (a jar without its dependencies)";
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
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
