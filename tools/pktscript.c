/* tools/pktscript.c: `synack pktscript FILE...`: runs packet scripts in
 * packetdrill's language against one synack stack each, on a virtual clock,
 * and prints one verdict line per script. The parser, runner, socket calls
 * and %{ }% evaluator live in tools/pktscript_*.c. */
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/pktscript.h"

#define CMD "pktscript"
#define DEFAULT_TOLERANCE_US 4000 /* packetdrill's --tolerance_usecs */

void cmd_pktscript_help(FILE *out)
{
    fprintf(out,
            "usage: synack pktscript [OPTIONS] FILE...\n"
            "\n"
            "Runs each packet script against a fresh synack stack on a virtual clock and prints\n"
            "PASS FILE, FAIL FILE: line N: WHAT (with the expected and actual segment), or\n"
            "SKIP FILE: line N: WHY when the script uses something synack does not have.\n"
            "\n"
            "Scripts are written in packetdrill's language, as the Linux kernel's TCP tests\n"
            "are: socket calls with their results (socket, bind, listen, accept, connect,\n"
            "write/send, read/recv, shutdown, close, setsockopt, getsockopt, fcntl), inbound\n"
            "'<' and outbound '>' segments with flags, start:end(length), ack, win and\n"
            "options (<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>, <...> for any), and\n"
            "absolute (1.5), relative (+0.1), any (*) or range (1~2) times. `shell` commands\n"
            "are reported and ignored; %%{ assert tcpi_rto == 1000000 }%% blocks are checked\n"
            "against synack's TCP info (tcpi_state, tcpi_rto, tcpi_snd_cwnd,\n"
            "tcpi_snd_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_retransmits, tcpi_backoff,\n"
            "tcpi_total_retrans, tcpi_unacked, tcpi_snd_mss, tcpi_rcv_mss, tcpi_snd_wscale,\n"
            "tcpi_rcv_wscale, tcpi_bytes_acked, tcpi_bytes_received, tcpi_snd_wnd,\n"
            "tcpi_rcv_wnd).\n"
            "\n"
            "The stack is 192.168.0.1 on a raw IPv4 link; the script's peer is 192.0.2.1.\n"
            "listen() binds port 8080 unless bind() names one; connect() goes to 192.0.2.1:8080.\n"
            "Inbound sequence numbers are sent as written; outbound ones are relative to the\n"
            "stack's ISN (learned from its SYN), as in packetdrill. write() sends zeros.\n"
            "Every segment the stack sends must be in the script: one nobody expects fails\n"
            "the script. As in packetdrill, full-sized segments sent back to back may match\n"
            "one larger script segment (TSO), and an inbound datagram larger than the\n"
            "1500-byte MTU is delivered as IPv4 fragments.\n"
            "\n"
            "options (also allowed in a script, on lines \"// synack: OPTIONS\", which apply\n"
            "before the command line's):\n"
            "  --profile NAME          a configuration preset: linux (initial window 10, RTO 1 s\n"
            "                          initial and 200 ms minimum, quick ACKs then a 40 ms\n"
            "                          delayed ACK, window scale 8) or rfc (the defaults)\n"
            "  --set NAME=VALUE        one stack setting (the list is below)\n"
            "  --tolerance-usecs N     how far a segment may be from its script time (4000)\n"
            "  --tcp-ts-tick-usecs N   also check outbound TS val, one tick per N us (off)\n"
            "  --ignore-trailing       segments sent after the script's last event pass, as\n"
            "                          in packetdrill (by default they fail the script)\n"
            "  --skip-ok               a skipped script does not fail the run\n"
            "  -v, --verbose           print every packet and call as it happens\n"
            "  -h, --help              this text\n"
            "packetdrill's own option lines at the top of a script (--tolerance_usecs=N)\n"
            "are understood; others are noted and ignored.\n"
            "\n"
            "exit status: 0 every script passed, 1 a script failed (or was skipped, unless\n"
            "--skip-ok), 2 bad command line\n"
            "\n"
            "settings (--set NAME=VALUE):\n");
    sn_config_help(out);
}

static void print_result(const char *path, const struct ps_result *r)
{
    static const char *const word[] = {"PASS", "FAIL", "SKIP"};
    if (r->status == PS_PASS) {
        printf("PASS %s\n", path);
    } else if (r->line > 0) {
        printf("%s %s: line %d: %s\n", word[r->status], path, r->line, r->msg);
    } else {
        printf("%s %s: %s\n", word[r->status], path, r->msg);
    }
    fflush(stdout);
}

int cmd_pktscript_main(int argc, char **argv)
{
    struct ps_options base;
    memset(&base, 0, sizeof(base));
    sn_config_defaults(&base.cfg);
    base.tolerance_us = DEFAULT_TOLERANCE_US;
    bool skip_ok = false;
    char **files = calloc((size_t)argc, sizeof(*files));
    char **words = calloc((size_t)argc, sizeof(*words));
    if (!files || !words) {
        free(files);
        free(words);
        return cli_fail("out of memory");
    }
    int n_files = 0, n_words = 0, rc = CLI_EXIT_OK;
    /* Options may come anywhere; they are checked once here and applied
     * again to every script after the script's own options. */
    struct ps_options check = base;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cmd_pktscript_help(stdout);
            goto out;
        }
        if (strcmp(a, "--skip-ok") == 0 || strcmp(a, "--skip_ok") == 0) {
            skip_ok = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                files[n_files++] = argv[i];
            break;
        }
        if (a[0] != '-' || a[1] == 0) {
            files[n_files++] = argv[i];
            continue;
        }
        char err[256];
        int used = ps_option_apply(&check, a, i + 1 < argc ? argv[i + 1] : NULL, err, sizeof(err));
        if (used < 0) {
            rc = cli_usage_cmd(CMD, "%s", err);
            goto out;
        }
        if (used == 0) {
            rc = cli_usage_cmd(CMD, "unknown option '%s'", a);
            goto out;
        }
        for (int k = 0; k < used; k++)
            words[n_words++] = argv[i + k];
        i += used - 1;
    }
    if (n_files == 0) {
        rc = cli_usage_cmd(CMD, "no script given");
        goto out;
    }
    base.verbose = check.verbose;
    int failed = 0, skipped = 0, passed = 0;
    for (int i = 0; i < n_files; i++) {
        struct ps_script sc;
        struct ps_result r;
        memset(&r, 0, sizeof(r));
        if (ps_parse_file(files[i], &sc, &r) == 0) {
            if (sc.skip_line)
                ps_skip(&r, sc.skip_line, "%s", sc.skip_reason);
            else
                ps_run(&sc, &base, words, n_words, &r);
        }
        ps_script_free(&sc);
        print_result(files[i], &r);
        failed += r.status == PS_FAIL;
        skipped += r.status == PS_SKIP;
        passed += r.status == PS_PASS;
    }
    if (n_files > 1)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    rc = failed || (skipped && !skip_ok) ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    free(files);
    free(words);
    return rc;
}
