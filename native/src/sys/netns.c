/* Network namespaces and rtnetlink requests for dock's sandboxes, without iproute2 processes:
 * netns bind mounts (as util-linux `unshare --net=FILE`), veth pairs, addresses, default routes.
 * Runs on libuv pool threads: a thread switches its own netns (setns(2) and unshare(CLONE_NEWNET)
 * act on the calling thread only) and always switches back before returning. No policy, no logging. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rt/netns.h"

/* IFLA_BRPORT_MODE is the hairpin flag of a bridge port (linux/if_link.h, enum of IFLA_BRPORT_*). */
#ifndef IFLA_BRPORT_MODE
#define IFLA_BRPORT_MODE 4
#endif

struct nlreq {
  union {
    struct nlmsghdr h;
    char buf[1024];
  };
};

static void nl_begin(struct nlreq *r, int type, int flags, const void *hdr, size_t len)
{
  memset(r, 0, sizeof *r);
  r->h.nlmsg_type = type;
  r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  r->h.nlmsg_len = NLMSG_LENGTH(len);
  memcpy(NLMSG_DATA(&r->h), hdr, len);
}

/* Appends an attribute; the fixed buffer is far larger than any request built here. */
static struct rtattr *nl_put(struct nlreq *r, int type, const void *data, size_t len)
{
  struct rtattr *a = (struct rtattr *)(r->buf + NLMSG_ALIGN(r->h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len)
    memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void nl_put_str(struct nlreq *r, int type, const char *s)
{
  nl_put(r, type, s, strlen(s) + 1);
}

static struct rtattr *nl_nest(struct nlreq *r, int type)
{
  return nl_put(r, type, NULL, 0);
}

static void nl_end(struct nlreq *r, struct rtattr *nest)
{
  nest->rta_len = (unsigned short)(r->buf + r->h.nlmsg_len - (char *)nest);
}

static int nl_open(void)
{
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  return fd < 0 ? -errno : fd;
}

/* Sends one request and reads its ack: 0 or the kernel's -errno. For RTM_GETLINK, *index gets the
 * interface index of the answer. */
static int nl_talk(int fd, struct nlreq *r, int *index)
{
  static __thread uint32_t seq;
  r->h.nlmsg_seq = ++seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
    return -errno;
  char buf[16384] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != r->h.nlmsg_seq)
        continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = (struct nlmsgerr *)NLMSG_DATA(h);
        return e->error;
      }
      if (h->nlmsg_type == RTM_NEWLINK && index)
        *index = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
      if (h->nlmsg_type == NLMSG_DONE)
        return 0;
    }
  }
}

static int link_index(int fd, const char *name, int *index)
{
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nl_begin(&r, RTM_GETLINK, 0, &ifi, sizeof ifi);
  nl_put_str(&r, IFLA_IFNAME, name);
  *index = 0;
  int e = nl_talk(fd, &r, index);
  return e < 0 ? e : *index > 0 ? 0 : -ENODEV;
}

static int link_up(int fd, int index)
{
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  nl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  return nl_talk(fd, &r, NULL);
}

static int link_del(int fd, const char *name)
{
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nl_begin(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
  nl_put_str(&r, IFLA_IFNAME, name);
  return nl_talk(fd, &r, NULL);
}

/* Back to the thread's own netns. A pool thread left in a container's namespace would run later
 * jobs (getaddrinfo, connect) there, so a failure here is not survivable. */
static void netns_return(int self)
{
  if (setns(self, CLONE_NEWNET) < 0)
    abort();
  close(self);
}

/* A netlink socket inside the netns at path: sockets keep the namespace they were made in, so the
 * thread goes there only for socket(2). */
static int nl_open_in(const char *path)
{
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0)
    return -errno;
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    int e = -errno;
    close(target);
    return e;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int e = -errno;
    close(target);
    close(self);
    return e;
  }
  close(target);
  int fd = nl_open();
  netns_return(self);
  return fd;
}

int rt_netns_create(const char *path)
{
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return -errno;
  if (unshare(CLONE_NEWNET) < 0) {
    int e = -errno;
    close(self);
    return e;
  }
  /* thread-self, not self: /proc/self names the thread-group leader, which stays where it was. */
  int e = mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0 ? -errno : 0;
  int fd = e == 0 ? nl_open() : 0;
  netns_return(self);
  if (e < 0)
    return e;
  if (fd < 0) {
    umount2(path, MNT_DETACH);
    return fd;
  }
  /* lo is ifindex 1 in every namespace (LOOPBACK_IFINDEX, net/core/dev.c). */
  e = link_up(fd, 1);
  close(fd);
  if (e < 0)
    umount2(path, MNT_DETACH);
  return e;
}

static int veth_create(int fd, const struct rt_veth *v, int master, int nsfd)
{
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nl_begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  nl_put_str(&r, IFLA_IFNAME, v->host_if);
  /* Enslaved at creation: the port options below need the bridge as master already. */
  nl_put(&r, IFLA_MASTER, &master, sizeof master);
  struct rtattr *info = nl_nest(&r, IFLA_LINKINFO);
  nl_put_str(&r, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nl_nest(&r, IFLA_INFO_DATA);
  struct rtattr *peer = nl_nest(&r, VETH_INFO_PEER);
  struct ifinfomsg pifi = {.ifi_family = AF_UNSPEC};
  r.h.nlmsg_len += sizeof pifi; /* VETH_INFO_PEER carries an ifinfomsg before its attributes */
  memcpy((char *)RTA_DATA(peer), &pifi, sizeof pifi);
  nl_put_str(&r, IFLA_IFNAME, v->ifname);
  nl_put(&r, IFLA_ADDRESS, v->mac, 6);
  nl_put(&r, IFLA_NET_NS_FD, &nsfd, sizeof nsfd);
  nl_end(&r, peer);
  nl_end(&r, data);
  nl_end(&r, info);
  return nl_talk(fd, &r, NULL);
}

/* ifalias, hairpin (bridge port mode) and up, on the existing host end. */
static int veth_host_setup(int fd, const struct rt_veth *v)
{
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  nl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  nl_put_str(&r, IFLA_IFNAME, v->host_if);
  nl_put(&r, IFLA_IFALIAS, v->alias, strlen(v->alias));
  struct rtattr *info = nl_nest(&r, IFLA_LINKINFO);
  nl_put_str(&r, IFLA_INFO_SLAVE_KIND, "bridge");
  struct rtattr *sd = nl_nest(&r, IFLA_INFO_SLAVE_DATA);
  uint8_t on = 1;
  nl_put(&r, IFLA_BRPORT_MODE, &on, 1);
  nl_end(&r, sd);
  nl_end(&r, info);
  return nl_talk(fd, &r, NULL);
}

static int addr_add(int fd, int index, struct in_addr a, int prefix)
{
  struct nlreq r;
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix, .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)index};
  nl_begin(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  nl_put(&r, IFA_LOCAL, &a, sizeof a);
  nl_put(&r, IFA_ADDRESS, &a, sizeof a);
  return nl_talk(fd, &r, NULL);
}

/* `ip route replace default via gw dev index`. */
static int default_route(int fd, int index, struct in_addr gw)
{
  struct nlreq r;
  struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
  nl_begin(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
  nl_put(&r, RTA_GATEWAY, &gw, sizeof gw);
  nl_put(&r, RTA_OIF, &index, sizeof index);
  return nl_talk(fd, &r, NULL);
}

int rt_veth_add(const struct rt_veth *v, const char **step)
{
  int host = -1, inner = -1, nsfd = -1, e, index = 0;
  *step = "open netns";
  nsfd = open(v->netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return -errno;
  *step = "find bridge";
  int master = (int)if_nametoindex(v->bridge);
  if (master == 0) {
    e = -errno;
    goto out;
  }
  *step = "netlink";
  if ((e = host = nl_open()) < 0)
    goto out;
  *step = "create veth";
  if ((e = veth_create(host, v, master, nsfd)) < 0)
    goto out;
  *step = "set up host end";
  if ((e = veth_host_setup(host, v)) < 0)
    goto undo;
  *step = "enter netns";
  if ((e = inner = nl_open_in(v->netns)) < 0)
    goto undo;
  *step = "find peer";
  if ((e = link_index(inner, v->ifname, &index)) < 0)
    goto undo;
  *step = "add address";
  if ((e = addr_add(inner, index, v->addr, v->prefix)) < 0)
    goto undo;
  *step = "set peer up";
  if ((e = link_up(inner, index)) < 0)
    goto undo;
  if (v->has_gw) {
    *step = "add default route";
    if ((e = default_route(inner, index, v->gw)) < 0)
      goto undo;
  }
  e = 0;
  goto out;
undo:
  link_del(host, v->host_if); /* takes the peer with it */
out:
  if (inner >= 0)
    close(inner);
  if (host >= 0)
    close(host);
  close(nsfd);
  return e;
}

int rt_link_unbridge(const char *name)
{
  int fd = nl_open();
  if (fd < 0)
    return fd;
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_change = IFF_UP};
  nl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  nl_put_str(&r, IFLA_IFNAME, name);
  int none = 0;
  nl_put(&r, IFLA_MASTER, &none, sizeof none);
  int e = nl_talk(fd, &r, NULL);
  close(fd);
  return e;
}

int rt_link_del(const char *name)
{
  int fd = nl_open();
  if (fd < 0)
    return fd;
  int e = link_del(fd, name);
  close(fd);
  return e;
}
