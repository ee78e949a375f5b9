/* Network namespaces and rtnetlink for dock's bridge networking (src/manager/network/kernel.ts):
 * a persistent netns bind mount, a veth pair addressed and routed inside a netns, link deletion.
 * Stateless; each returns 0 or -errno. Blocking (kernel round trips): call from a pool thread. */
#ifndef RT_NETNS_H
#define RT_NETNS_H

#include <netinet/in.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One endpoint: host_if on bridge (hairpin on, ifalias alias, up), its peer ifname with mac created
 * inside the netns bind-mounted at netns, with addr/prefix, up, and a default route via gw if has_gw. */
struct rt_veth {
  const char *host_if;
  const char *ifname;
  const char *bridge;
  const char *alias;
  const char *netns;
  uint8_t mac[6];
  struct in_addr addr;
  int prefix;
  int has_gw;
  struct in_addr gw;
};

/* A new network namespace bind-mounted on the existing file path, with lo up. The calling thread
 * enters it and returns to its own namespace before this returns. */
int rt_netns_create(const char *path);
/* Creates and configures v; on failure the host end is deleted again. *step names the failing step. */
int rt_veth_add(const struct rt_veth *v, const char **step);
/* Takes name off its bridge and down (RTM_NEWLINK IFLA_MASTER 0): the bridge forgets the MAC
 * addresses it learnt there (br_fdb_delete_by_port), without unregistering the device. */
int rt_link_unbridge(const char *name);
/* RTM_DELLINK of name in the caller's netns (-ENODEV when absent). */
int rt_link_del(const char *name);

#ifdef __cplusplus
}
#endif

#endif
