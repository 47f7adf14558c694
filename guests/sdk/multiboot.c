/*
 * multiboot.c - copy what the loader passed (info block, command line,
 * memory map) into the image at startup, before anything can overwrite
 * the loader's memory, and parse "key=value" options.
 */
#include "multiboot.h"
#include "libc.h"

#define CMDLINE_MAX 1024
#define MMAP_MAX    32

extern u32 mb_info_phys;                /* EBX at entry (entry.S) */

struct multiboot_info mb_info;
static char cmdline[CMDLINE_MAX];
static struct multiboot_mmap mmap[MMAP_MAX];
static int mmap_count;

void multiboot_capture(void);

void multiboot_capture(void)
{
	if (mb_magic != MULTIBOOT_BOOTLOADER_MAGIC || !mb_info_phys)
		return;
	memcpy(&mb_info, (void *)(u64)mb_info_phys, sizeof(mb_info));

	if (mb_info.flags & MB_INFO_CMDLINE) {
		const char *s = (const char *)(u64)mb_info.cmdline;
		size_t i;

		for (i = 0; i < CMDLINE_MAX - 1 && s[i]; i++)
			cmdline[i] = s[i];
		cmdline[i] = '\0';
	}

	if (mb_info.flags & MB_INFO_MMAP) {
		u64 p = mb_info.mmap_addr, end = p + mb_info.mmap_length;

		while (p < end && mmap_count < MMAP_MAX) {
			const struct multiboot_mmap *e = (const void *)p;
			memcpy(&mmap[mmap_count++], e, sizeof(*e));
			p += e->size + sizeof(e->size);
		}
	}
}

const char *mb_cmdline(void)
{
	return cmdline;
}

/* Start of the value of "key=" where key begins a word, or NULL. */
static const char *find_key(const char *key)
{
	size_t n = strlen(key);

	for (const char *p = cmdline; (p = strstr(p, key)); p++)
		if ((p == cmdline || p[-1] == ' ') && p[n] == '=')
			return p + n + 1;
	return NULL;
}

unsigned long cmdline_ulong(const char *key, unsigned long def)
{
	const char *v = find_key(key);

	return v ? strtoul(v, NULL, 0) : def;
}

bool cmdline_str(const char *key, char *buf, size_t size)
{
	const char *v = find_key(key);
	size_t i = 0;

	if (!v)
		return false;
	while (v[i] && v[i] != ' ' && i + 1 < size) {
		buf[i] = v[i];
		i++;
	}
	buf[i] = '\0';
	return true;
}

bool mb_mmap_entry(int i, struct multiboot_mmap *out)
{
	if (i < 0 || i >= mmap_count)
		return false;
	*out = mmap[i];
	return true;
}
