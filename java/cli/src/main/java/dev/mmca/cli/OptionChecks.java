package dev.mmca.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * Checks of options whose need depends on other options (run's compositions), refused in picocli's own words so
 * that a missing option reads the same whether picocli or the command found it.
 */
final class OptionChecks {
    private OptionChecks() {
    }

    /** Refuses the options of {@code required} ({name, value} pairs) that are missing, all in one message. */
    static void require(CommandLine.Model.CommandSpec spec, Object[][] required) {
        List<String> missing = new ArrayList<>();
        for (Object[] o : required) {
            if (o[1] == null) {
                String name = (String) o[0];
                StringBuilder label = new StringBuilder();  // picocli's label: the field name, --out-text -> outText
                for (String word : name.substring(2).split("-")) {
                    label.append(label.length() == 0 ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1));
                }
                missing.add("'" + name + "=<" + label + ">'");
            }
        }
        if (!missing.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option"
                    + (missing.size() > 1 ? "s" : "") + ": " + String.join(", ", missing));
        }
    }

    /** Refuses the first given option of {@code unused} ({name, value} pairs), naming it and {@code why}. */
    static void refuse(CommandLine.Model.CommandSpec spec, Object[][] unused, String why) {
        for (Object[] o : unused) {
            if (o[1] != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), o[0] + ": not an option " + why);
            }
        }
    }

    /** An option's value parsed, a parse failure refused as {@code NAME: reason}. */
    static <T> T parse(CommandLine.Model.CommandSpec spec, String name, Supplier<T> parse) {
        return parse(spec.commandLine(), name, parse);
    }

    /** As {@link #parse(CommandLine.Model.CommandSpec, String, Supplier)}, for a mixin that holds the command line. */
    static <T> T parse(CommandLine commandLine, String name, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, name + ": "
                    + e.getMessage().replaceFirst("^[A-Za-z_]+: ", ""));
        }
    }
}
