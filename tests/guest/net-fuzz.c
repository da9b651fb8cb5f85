/*
 * net-fuzz: sends malformed and abusive frames out of a guest NIC, for Vessel's end-to-end tests.
 * Usage: net-fuzz IFNAME COUNT
 * Through an AF_PACKET raw socket (bypassing the guest's own stack) it sends, COUNT times each round:
 * runts, frames with garbage after the Ethernet header, IPv4 headers with bad lengths/versions/checksums,
 * truncated TCP/UDP/ICMP headers, fragments, and a flood of TCP SYNs to 10.0.2.2 from random ports that
 * are never completed (a half-open flood). Prints "FUZZ-SENT n" at the end. The host must survive all of it
 * and keep serving other connections.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static uint32_t seed = 12345;
static uint32_t rnd(void) { seed = seed * 1103515245u + 12345u; return seed >> 8; }

static uint16_t checksum(const uint8_t *p, int n, uint32_t sum)
{
    for (int i = 0; i + 1 < n; i += 2)
        sum += (p[i] << 8) | p[i + 1];
    if (n & 1)
        sum += p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static int fd;
static struct sockaddr_ll to;
static uint8_t mac[6];
static long sent;

static void send_frame(uint8_t *f, int len)
{
    if (sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof to) == len)
        sent++;
}

/* Ethernet + IPv4 header toward the gateway; returns the IP header offset. */
static int ip_frame(uint8_t *f, int proto, int payload)
{
    memset(f, 0xff, 6); /* broadcast: the NAT answers ARP for the gateway anyway */
    memcpy(f + 6, mac, 6);
    f[12] = 0x08; f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45; ip[8] = 64; ip[9] = (uint8_t)proto;
    uint16_t total = (uint16_t)(20 + payload);
    ip[2] = total >> 8; ip[3] = total & 0xff;
    ip[12] = 10; ip[13] = 0; ip[14] = 2; ip[15] = 15;
    ip[16] = 10; ip[17] = 0; ip[18] = 2; ip[19] = 2;
    uint16_t c = checksum(ip, 20, 0);
    ip[10] = c >> 8; ip[11] = c & 0xff;
    return 14;
}

static void tcp_syn(uint8_t *f, uint16_t sport, uint16_t dport)
{
    int o = ip_frame(f, 6, 20);
    uint8_t *t = f + o + 20;
    memset(t, 0, 20);
    t[0] = sport >> 8; t[1] = sport & 0xff; t[2] = dport >> 8; t[3] = dport & 0xff;
    uint32_t s = rnd(); memcpy(t + 4, &s, 4);
    t[12] = 5 << 4; t[13] = 0x02; t[14] = 0xff; t[15] = 0xff;
    uint8_t pseudo[12] = {10, 0, 2, 15, 10, 0, 2, 2, 0, 6, 0, 20};
    uint32_t sum = 0;
    for (int i = 0; i < 12; i += 2) sum += (pseudo[i] << 8) | pseudo[i + 1];
    uint16_t c = checksum(t, 20, sum);
    t[16] = c >> 8; t[17] = c & 0xff;
    send_frame(f, o + 40);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: net-fuzz IFNAME COUNT\n"); return 2; }
    int count = atoi(argv[2]);
    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) { perror("socket"); return 1; }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) { perror("SIOCGIFINDEX"); return 1; }
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET; to.sll_ifindex = ifr.ifr_ifindex; to.sll_halen = 6;
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);

    static uint8_t f[1514];
    for (int round = 0; round < count; round++) {
        /* Runts and random garbage of every small length, after a valid or random Ethernet header. */
        for (int len = 14; len < 64; len++) {
            for (int i = 0; i < len; i++) f[i] = (uint8_t)rnd();
            memcpy(f + 6, mac, 6);
            send_frame(f, len);
        }
        /* IPv4 with every kind of bad header. */
        int o = ip_frame(f, 17, 8);
        f[o] = 0x41; send_frame(f, o + 28);                     /* IHL 1 */
        o = ip_frame(f, 17, 8); f[o] = 0x65; send_frame(f, o + 28); /* version 6 in an IPv4 ethertype */
        o = ip_frame(f, 17, 8); f[o + 2] = 0xff; f[o + 3] = 0xff; send_frame(f, o + 28); /* total length > frame */
        o = ip_frame(f, 17, 8); f[o + 2] = 0; f[o + 3] = 4; send_frame(f, o + 28);       /* total length < header */
        o = ip_frame(f, 17, 8); f[o + 10] ^= 0x55; send_frame(f, o + 28);                /* bad checksum */
        o = ip_frame(f, 17, 8); f[o] = 0x4f; send_frame(f, o + 28);                      /* IHL 15 > frame */
        o = ip_frame(f, 6, 4); send_frame(f, o + 24);                                    /* truncated TCP header */
        o = ip_frame(f, 17, 4); send_frame(f, o + 24);                                   /* truncated UDP header */
        o = ip_frame(f, 1, 2); send_frame(f, o + 22);                                    /* truncated ICMP */
        o = ip_frame(f, 17, 1400); f[o + 6] = 0x20; send_frame(f, o + 1420);             /* first fragment */
        o = ip_frame(f, 17, 1400); f[o + 6] = 0x00; f[o + 7] = 0x10; send_frame(f, o + 1420); /* later fragment */
        o = ip_frame(f, 17, 1480); for (int i = 0; i < 1480; i++) f[o + 20 + i] = (uint8_t)rnd();
        send_frame(f, o + 1500);                                                         /* giant UDP garbage */
        /* ARP with absurd lengths. */
        memset(f, 0xff, 6); memcpy(f + 6, mac, 6); f[12] = 0x08; f[13] = 0x06;
        for (int i = 14; i < 60; i++) f[i] = (uint8_t)rnd();
        send_frame(f, 60);
        /* Half-open TCP flood: SYNs from random ports, never answered. */
        for (int i = 0; i < 100; i++)
            tcp_syn(f, (uint16_t)(1024 + rnd() % 60000), (uint16_t)(1 + rnd() % 65535));
    }
    printf("FUZZ-SENT %ld\n", sent);
    return 0;
}
