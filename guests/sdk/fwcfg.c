/*
 * fwcfg.c - QEMU fw_cfg over I/O ports: write the 16-bit item key to the
 * selector port, then read the item byte by byte from the data port.
 * Multi-byte numbers are little-endian.
 */
#include "fwcfg.h"
#include "x86.h"
#include "libc.h"

void fwcfg_read(u16 key, void *buf, size_t len)
{
	u8 *p = buf;

	outw(FW_CFG_PORT_SEL, key);
	while (len--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return !memcmp(sig, "QEMU", 4);
}

static u64 read_le(u16 key, size_t len)
{
	u8 b[8];
	u64 v = 0;

	fwcfg_read(key, b, len);
	while (len--)
		v = (v << 8) | b[len];
	return v;
}

int fwcfg_nb_cpus(void)
{
	return fwcfg_present() ? (int)read_le(FW_CFG_NB_CPUS, 2) : 0;
}

u64 fwcfg_ram_size(void)
{
	return fwcfg_present() ? read_le(FW_CFG_RAM_SIZE, 8) : 0;
}
