#ifndef RCFD_DAEMON_DEMO_H
#define RCFD_DAEMON_DEMO_H

/* `rcfd demo`: scores a generated sensor stream with a KDA-default forest and prints the top
 * anomalies with their explanation. Needs no external service. Returns a process exit code. */
int rcfd_demo_main(int argc, char **argv);

#endif
