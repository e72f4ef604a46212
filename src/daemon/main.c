/* rcfd command line: dispatches subcommands. */
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "rcfd/version.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: rcfd <command> [options]\n\n"
                 "commands:\n"
                 "  demo        score a generated sensor stream and print the top anomalies\n"
                 "  --version   print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 64;
    }
    if (strcmp(argv[1], "demo") == 0) {
        return rcfd_demo_main(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("rcfd %s\n", rcfd_version());
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "rcfd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 64;
}
