/*
 * setup.c - C entry point of the BSP (called from entry.S on the boot
 * stack, in long mode): bring the machine into the state vsmrr.h promises,
 * run main() and exit with its result.
 */
#include "vsmrr.h"

#define MAX_ARGS 32

void idt_init(void);
void multiboot_capture(void);
void __noreturn sdk_main(void);
int main(int argc, char **argv);

/* Mask both 8259 PICs: nothing may arrive through them (and the BIOS maps
 * IRQ 0-7 onto exception vectors 8-15). The APIC is used instead. */
static void pic_mask_all(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/* Split a copy of the command line into argv (argv[0] = image name). */
static int split_args(char *s, char **argv)
{
	int argc = 0;

	while (*s && argc < MAX_ARGS - 1) {
		while (*s == ' ')
			*s++ = '\0';
		if (!*s)
			break;
		argv[argc++] = s;
		while (*s && *s != ' ')
			s++;
	}
	argv[argc] = NULL;
	return argc;
}

void __noreturn sdk_main(void)
{
	static char args[1024];
	static char *argv[MAX_ARGS];
	int argc;

	pic_mask_all();
	idt_init();
	cpu_init_descriptors(cpuid(1).b >> 24);
	this_cpu()->online = 1;
	serial_init();
	multiboot_capture();
	apic_enable();

	snprintf(args, sizeof(args), "%s", mb_cmdline());
	argc = split_args(args, argv);
	exit(main(argc, argv));
}

void exit(int code)
{
	serial_flush();
	/* isa-debug-exit: QEMU exits with (code << 1) | 1, vsmrr with code. */
	outl(0xf4, code);
	/* No exit device: stop here. */
	for (;;) {
		cli();
		hlt();
	}
}

void panic(const char *fmt, ...)
{
	va_list ap;

	printf("PANIC: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(EXIT_PANIC);
}
