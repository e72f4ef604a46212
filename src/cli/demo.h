#ifndef RCFD_CLI_DEMO_H
#define RCFD_CLI_DEMO_H

#include <stdint.h>

/* `rcfd demo`: starts librdkafka's mock cluster in-process, produces a generated sensor stream and
 * a clickstream into it, runs the daemon's pipelines on them (RCF with explanation per machine,
 * HOTSPOTS over sessions), writes the scored records to a file and prints a summary. Needs no
 * external service. Returns a process exit code. */
int rcfd_demo_main(int argc, char **argv);

/* `rcfd demo --offline`: the same sensor stream scored directly with the forest library, no
 * Kafka and no loop. */
int rcfd_demo_offline_main(int argc, char **argv);

/* `rcfd dev-broker`: the mock cluster in the foreground behind a relay on a fixed bootstrap address
 * (127.0.0.1:9092), optionally producing the sensor sample, until SIGINT/SIGTERM. */
int rcfd_devbroker_main(int argc, char **argv);

/* The demo's generated reading of `machine` (0-based) at index i of per_machine: temperature,
 * pressure, vibration with a daily cycle and noise drawn from *rng (callers draw machines in turn
 * per index, so a stream replays exactly); *fault names the fault injected into it (the demo's four, at fixed
 * fractions of per_machine; none when per_machine is 0), or NULL. */
void rcfd_demo_reading(int machine, int i, int per_machine, uint64_t *rng, double v[3],
                       const char **fault);

/* mkdir -p: creates dir and its missing parents with `mode`; 0, or -1 with errno. */
int rcfd_cli_mkdirs(const char *dir, int mode);

#endif
