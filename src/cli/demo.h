#ifndef RCFD_CLI_DEMO_H
#define RCFD_CLI_DEMO_H

/* `rcfd demo`: starts librdkafka's mock cluster in-process, produces a generated sensor stream and
 * a clickstream into it, runs the daemon's pipelines on them (RCF with explanation per machine,
 * HOTSPOTS over sessions), writes the scored records to a file and prints a summary. Needs no
 * external service. Returns a process exit code. */
int rcfd_demo_main(int argc, char **argv);

/* `rcfd demo --offline`: the same sensor stream scored directly with the forest library, no
 * Kafka and no loop. */
int rcfd_demo_offline_main(int argc, char **argv);

#endif
