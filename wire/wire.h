/* wire/wire.h: what every wire/ parser returns. Parsers validate every
 * length their accessors rely on; a view exists only after a successful
 * parse, so accessors cannot read out of bounds. */
#ifndef SYNACK_WIRE_WIRE_H
#define SYNACK_WIRE_WIRE_H

enum wire_err {
    WIRE_OK = 0,
    WIRE_ETRUNC,    /* buffer shorter than the header */
    WIRE_EBADLEN,   /* a length field disagrees with the buffer */
    WIRE_EBADVER,   /* wrong version */
    WIRE_EBADHDR,   /* header length field out of range */
    WIRE_EBADCSUM,  /* checksum mismatch */
    WIRE_EBADOPT,   /* malformed option */
    WIRE_EUNSUPP,   /* well-formed but not a kind we handle */
};

const char *wire_strerror(int err);

#endif
