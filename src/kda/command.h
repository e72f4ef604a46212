/* rcfd kda: tools for moving a Kinesis Data Analytics SQL application to rcfd. */
#ifndef RCFD_KDA_COMMAND_H
#define RCFD_KDA_COMMAND_H

/* `rcfd kda import APP.sql [options]` (argv after "kda"). Returns a process exit code: 0, 64 for
 * a bad command line, 65 for SQL rcfd cannot import (the message names LINE:COLUMN), 73 when a
 * file cannot be read or written. */
int rcfd_kda_main(int argc, char **argv);

#endif
