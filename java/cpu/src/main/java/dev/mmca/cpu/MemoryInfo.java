package dev.mmca.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory the machine has available for new allocations ({@code MemAvailable} of /proc/meminfo). */
final class MemoryInfo {
    private MemoryInfo() {
    }

    /** Available bytes, or -1 when unknown (not Linux, or the file cannot be read). */
    static long availableBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException | SecurityException e) {
            return -1;
        }
        return -1;
    }
}
