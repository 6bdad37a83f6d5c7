/* wire/arp.h: ARP for IPv4 over Ethernet (RFC 826). Only htype 1 / ptype
 * 0x0800 with 6- and 4-byte addresses is accepted. */
#ifndef SYNACK_WIRE_ARP_H
#define SYNACK_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* Host-order summary of an ARP packet. */
struct arp_msg {
    uint16_t op;
    uint8_t sha[6];
    uint32_t spa;
    uint8_t tha[6];
    uint32_t tpa;
};

/* 0, WIRE_ETRUNC, or WIRE_EUNSUPP (not Ethernet/IPv4 ARP). */
int arp_parse(struct arp_msg *m, const uint8_t *b, size_t len);

/* Writes ARP_LEN bytes at @b. */
void arp_build(uint8_t *b, const struct arp_msg *m);

#endif
