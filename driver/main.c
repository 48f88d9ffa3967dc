// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: a tty driver whose ports live on an RFC 2217 server.
 *
 * The kernel side only does what a tty must do locally; the TCP session
 * and the protocol are run by the userspace helper ttyrfcd, reached over
 * the "ttyrfc" generic netlink family. This file holds the module, its
 * parameters and the registry of ports.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/tty_driver.h>
#include <net/genetlink.h>

#include "ttyrfc.h"

static char *hosts;
module_param(hosts, charp, 0444);
MODULE_PARM_DESC(hosts,
		 "comma-separated list, one /dev/ttyRFC<n> each: host:port, [v6]:port, tls://host:port or mdns://service");

static unsigned int ports_max = 64;
module_param(ports_max, uint, 0444);
MODULE_PARM_DESC(ports_max, "number of minors reserved (1-256, default 64)");

struct tty_driver *ttyrfc_driver;

/* The registry holds one reference on each port; lookups take their own. */
static DEFINE_MUTEX(ports_lock);
static DEFINE_IDR(ports);

/*
 * The port at @index, with a reference. A deleted port (@dead_too) is still
 * here while a hung-up tty holds it: its minor is only free in .destruct.
 */
struct ttyrfc_port *ttyrfc_port_get(unsigned int index, bool dead_too)
{
	struct ttyrfc_port *p;

	mutex_lock(&ports_lock);
	p = idr_find(&ports, index);
	if (p && ((p->dead && !dead_too) || !tty_port_get(&p->port)))
		p = NULL;
	mutex_unlock(&ports_lock);
	return p;
}

/* The port at @index or the next one after it, with a reference. */
struct ttyrfc_port *ttyrfc_port_next(unsigned int *index)
{
	struct ttyrfc_port *p;
	int id = *index;

	mutex_lock(&ports_lock);
	for (;;) {
		p = idr_get_next(&ports, &id);
		if (!p || tty_port_get(&p->port))
			break;
		id++;
	}
	mutex_unlock(&ports_lock);
	*index = id;
	return p;
}

void ttyrfc_port_put(struct ttyrfc_port *p)
{
	tty_port_put(&p->port);
}

static ssize_t remote_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct ttyrfc_port *p = dev_get_drvdata(dev);

	if (p->flags & TTYRFC_F_MDNS)
		return sysfs_emit(buf, "mdns://%s\n", p->host);
	if (strchr(p->host, ':'))
		return sysfs_emit(buf, "[%s]:%u\n", p->host, p->tcp_port);
	return sysfs_emit(buf, "%s:%u\n", p->host, p->tcp_port);
}
static DEVICE_ATTR_RO(remote);

static ssize_t link_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	static const char * const names[] = {
		[TTYRFC_LINK_DOWN] = "down",
		[TTYRFC_LINK_CONNECTING] = "connecting",
		[TTYRFC_LINK_UP] = "up",
	};
	struct ttyrfc_port *p = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", names[READ_ONCE(p->link)]);
}
static DEVICE_ATTR_RO(link);

static ssize_t name_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct ttyrfc_port *p = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", p->name);
}
static DEVICE_ATTR_RO(name);

static struct attribute *ttyrfc_dev_attrs[] = {
	&dev_attr_remote.attr,
	&dev_attr_link.attr,
	&dev_attr_name.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ttyrfc_dev);

/*
 * Two ports on one remote would fight over the board, and names become
 * /dev/serial/rfc2217/<name> links: both must be unique among the ports
 * not deleted. Under ports_lock.
 */
static int ttyrfc_port_clash(const struct ttyrfc_port *new)
{
	struct ttyrfc_port *p;
	int id;

	idr_for_each_entry(&ports, p, id) {
		if (p->dead)
			continue;
		if ((p->tcp_port == new->tcp_port ||
		     (new->flags & TTYRFC_F_MDNS)) &&
		    (p->flags & TTYRFC_F_MDNS) == (new->flags & TTYRFC_F_MDNS) &&
		    !strcasecmp(p->host, new->host))
			return -EEXIST;
		if (*new->name && !strcmp(p->name, new->name))
			return -EEXIST;
	}
	return 0;
}

/*
 * Letters udev accepts in a link name; no '/', no spaces, and not "." or
 * "..", which would name a directory as /dev/serial/rfc2217/<name>.
 */
static bool ttyrfc_name_ok(const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (; *name; name++)
		if (!isalnum(*name) && !strchr("#+-.:=@_", *name))
			return false;
	return true;
}

static void ttyrfc_tls_free(struct ttyrfc_tls *t)
{
	kfree(t->ca);
	kfree(t->cert);
	kfree(t->key);
	kfree(t->server_name);
	memset(t, 0, sizeof(*t));
}

static int ttyrfc_tls_dup(struct ttyrfc_tls *to, const struct ttyrfc_tls *from)
{
	if (!from)
		return 0;
	to->ca = kstrdup(from->ca, GFP_KERNEL);
	to->cert = kstrdup(from->cert, GFP_KERNEL);
	to->key = kstrdup(from->key, GFP_KERNEL);
	to->server_name = kstrdup(from->server_name, GFP_KERNEL);
	if ((from->ca && !to->ca) || (from->cert && !to->cert) ||
	    (from->key && !to->key) ||
	    (from->server_name && !to->server_name)) {
		ttyrfc_tls_free(to);
		return -ENOMEM;
	}
	return 0;
}

static struct ttyrfc_port *ttyrfc_port_alloc(const char *host, u16 tcp_port,
					      const char *name, u32 flags,
					      const struct ttyrfc_tls *tls)
{
	struct ttyrfc_port *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	if (ttyrfc_tls_dup(&p->tls, tls)) {
		kfree(p);
		return NULL;
	}
	tty_port_init(&p->port);
	p->port.ops = &ttyrfc_port_ops;
	p->port.client_ops = &ttyrfc_client_ops;
	p->index = UINT_MAX;		/* no minor yet */
	spin_lock_init(&p->lock);
	init_waitqueue_head(&p->link_wait);
	strscpy(p->host, host, sizeof(p->host));
	strscpy(p->name, name, sizeof(p->name));
	p->tcp_port = tcp_port;
	p->flags = flags;
	if (ttyrfc_queue_init(p)) {
		tty_port_destroy(&p->port);
		ttyrfc_tls_free(&p->tls);
		kfree(p);
		return NULL;
	}
	return p;
}

/*
 * Returns the new port's index or -errno. The minor is reserved first and
 * the port published only once it is set up, so nobody sees it half made.
 */
int ttyrfc_port_create(const char *host, u16 tcp_port, const char *name,
		       u32 flags, const struct ttyrfc_tls *tls)
{
	struct ttyrfc_port *p;
	struct device *dev;
	int index;

	/* an mDNS service has its port in its announcement */
	if (!*host || strlen(host) > TTYRFC_HOST_MAX ||
	    (!tcp_port && !(flags & TTYRFC_F_MDNS)) || !ttyrfc_name_ok(name))
		return -EINVAL;
	p = ttyrfc_port_alloc(host, tcp_port, name, flags, tls);
	if (!p)
		return -ENOMEM;

	mutex_lock(&ports_lock);
	index = ttyrfc_port_clash(p);
	if (!index)
		index = idr_alloc(&ports, NULL, 0, ports_max, GFP_KERNEL);
	mutex_unlock(&ports_lock);
	if (index < 0) {
		tty_port_put(&p->port);		/* destruct frees it */
		return index;
	}
	p->index = index;

	dev = tty_port_register_device_attr(&p->port, ttyrfc_driver, index,
					    NULL, p, ttyrfc_dev_groups);
	if (IS_ERR(dev)) {
		tty_port_put(&p->port);		/* releases the minor */
		return PTR_ERR(dev);
	}
	mutex_lock(&ports_lock);
	idr_replace(&ports, p, index);
	mutex_unlock(&ports_lock);
	pr_info("ttyRFC%d: %s port %u%s%s\n", index, host, tcp_port,
		*name ? " " : "", name);
	return index;
}

/* Called from .destruct: the last tty is gone, the minor may be reused. */
void ttyrfc_port_release(struct ttyrfc_port *p)
{
	ttyrfc_tls_free(&p->tls);
	if (p->index == UINT_MAX)
		return;
	mutex_lock(&ports_lock);
	idr_remove(&ports, p->index);
	mutex_unlock(&ports_lock);
}

/*
 * Remove a port. An open one goes the way an unplugged USB adapter does:
 * its tty is hung up (the holder sees EIO and a hangup), no new open gets
 * it, and it is freed when the last holder lets go.
 */
int ttyrfc_port_destroy(unsigned int index)
{
	struct ttyrfc_port *p;

	mutex_lock(&ports_lock);
	p = idr_find(&ports, index);
	if (!p || p->dead) {
		mutex_unlock(&ports_lock);
		return -ENODEV;
	}
	p->dead = true;
	mutex_unlock(&ports_lock);

	tty_port_tty_vhangup(&p->port);
	tty_unregister_device(ttyrfc_driver, index);
	tty_port_put(&p->port);		/* the registry's reference */
	pr_info("ttyRFC%u: removed\n", index);
	return 0;
}

/*
 * "host:port", "[v6addr]:port", "tls://" before either (TLS, the system's
 * CAs), or "mdns://service" (found by its announcement).
 */
static int ttyrfc_parse_host(char *s, char **host, u16 *tcp_port, u32 *flags)
{
	char *colon;

	*flags = 0;
	if (!strncmp(s, "mdns://", 7)) {
		*flags = TTYRFC_F_MDNS;
		*host = s + 7;
		*tcp_port = 0;
		return **host && strlen(*host) <= TTYRFC_HOST_MAX ? 0 : -EINVAL;
	}
	if (!strncmp(s, "tls://", 6)) {
		*flags = TTYRFC_F_TLS;
		s += 6;
	}
	colon = strrchr(s, ':');

	if (!colon || colon == s)
		return -EINVAL;
	*colon = '\0';
	if (kstrtou16(colon + 1, 10, tcp_port) || !*tcp_port)
		return -ERANGE;
	if (*s == '[') {
		if (colon[-1] != ']')
			return -EINVAL;
		colon[-1] = '\0';
		s++;
	}
	if (!*s || strlen(s) > TTYRFC_HOST_MAX)
		return -EINVAL;
	*host = s;
	return 0;
}

static int ttyrfc_create_from_param(void)
{
	char *list, *cur, *entry, *host;
	unsigned int n = 0;
	u16 tcp_port;
	u32 flags;
	int ret = 0;

	if (!hosts || !*hosts)
		return 0;
	/* refuse a list that cannot fit before creating any of its ports */
	for (cur = hosts; *cur; cur++)
		n += *cur == ',';
	if (n + 1 > ports_max) {
		pr_err("hosts=: more than ports_max=%u entries\n", ports_max);
		return -E2BIG;
	}
	n = 0;
	list = kstrdup(hosts, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cur = list;
	while ((entry = strsep(&cur, ",")) != NULL) {
		char shown[40];

		entry = strim(entry);
		strscpy(shown, entry, sizeof(shown));	/* parsing cuts it */
		n++;
		ret = ttyrfc_parse_host(entry, &host, &tcp_port, &flags);
		if (ret == -ERANGE) {
			pr_err("hosts=: entry %u: port must be 1-65535\n", n);
			ret = -EINVAL;
			break;
		} else if (ret) {
			pr_err("hosts=: entry %u \"%s\" is not host:port\n",
			       n, shown);
			break;
		}
		ret = ttyrfc_port_create(host, tcp_port, "", flags, NULL);
		if (ret == -EEXIST) {
			pr_err("hosts=: entry %u: %s:%u is listed twice\n", n,
			       host, tcp_port);
			ret = -EINVAL;	/* EEXIST would read as "already loaded" */
			break;
		} else if (ret < 0) {
			pr_err("hosts=: entry %u: cannot create port (%d)\n",
			       n, ret);
			break;
		}
		ret = 0;
	}
	kfree(list);
	return ret;
}

static void ttyrfc_destroy_all(void)
{
	unsigned int index = 0;
	struct ttyrfc_port *p;

	while ((p = ttyrfc_port_next(&index))) {
		ttyrfc_port_put(p);
		ttyrfc_port_destroy(index);
		index++;
	}
}

static int __init ttyrfc_init(void)
{
	struct tty_driver *drv;
	int ret;

	if (!ports_max || ports_max > TTYRFC_PORTS_LIMIT) {
		pr_err("ports_max=%u: must be 1-%u\n", ports_max,
		       TTYRFC_PORTS_LIMIT);
		return -EINVAL;
	}

	drv = tty_alloc_driver(ports_max, TTY_DRIVER_REAL_RAW |
			       TTY_DRIVER_DYNAMIC_DEV);
	if (IS_ERR(drv))
		return PTR_ERR(drv);
	drv->driver_name = "ttyrfc";
	drv->name = "ttyRFC";
	drv->type = TTY_DRIVER_TYPE_SERIAL;
	drv->subtype = SERIAL_TYPE_NORMAL;
	drv->init_termios = tty_std_termios;
	/* like a USB adapter: 115200 8N1, no modem carrier needed */
	drv->init_termios.c_cflag = B115200 | CS8 | CREAD | HUPCL | CLOCAL;
	drv->init_termios.c_ispeed = 115200;
	drv->init_termios.c_ospeed = 115200;
	tty_set_operations(drv, &ttyrfc_tty_ops);

	ret = tty_register_driver(drv);
	if (ret)
		goto err_put;
	ttyrfc_driver = drv;
	ttyrfc_client_ops_init();

	ret = ttyrfc_queue_setup();
	if (ret)
		goto err_unregister;
	ret = ttyrfc_create_from_param();
	if (ret)
		goto err_ports;
	/* last: the helper and ttyrfcctl only see a module that is ready */
	ret = ttyrfc_genl_init();
	if (ret)
		goto err_ports;
	return 0;

err_ports:
	ttyrfc_destroy_all();
	ttyrfc_queue_teardown();
err_unregister:
	tty_unregister_driver(drv);
err_put:
	tty_driver_kref_put(drv);
	return ret;
}

static void __exit ttyrfc_exit(void)
{
	/* first: no more requests; no tty is open (each one pins us) */
	ttyrfc_genl_exit();
	ttyrfc_destroy_all();
	ttyrfc_queue_teardown();
	tty_unregister_driver(ttyrfc_driver);
	tty_driver_kref_put(ttyrfc_driver);
	idr_destroy(&ports);
}

module_init(ttyrfc_init);
module_exit(ttyrfc_exit);

MODULE_DESCRIPTION("tty ports on RFC 2217 servers, via the ttyrfcd helper");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY(TTYRFC_GENL_NAME);
