/* tools/ss.h: the client side of a running stack's control socket (see
 * api/ctl.h), shared by `synack ss` and `synack netstat`. */
#ifndef SYNACK_TOOLS_SS_H
#define SYNACK_TOOLS_SS_H

/* Sends @req to the stack at @path (NULL: $SYNACK_CTL, else the one live
 * socket under /run/synack/ or /tmp/synack-*.sock) and prints the answer
 * on stdout. Returns an exit status, after a one-line message on error. */
int ctl_client_run(const char *cmd, const char *path, const char *req);

#endif
