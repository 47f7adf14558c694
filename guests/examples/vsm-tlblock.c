/*
 * vsm-tlblock.c - the TLB lock (spec/vsm.md §8) with the flush hypercalls
 * (§2.7), on 2 to 4 VPs:
 *   - VTL1 on VP0 locks the VTL0 TLB of every other VP (VsmVpSecureConfigVtl0
 *     .tlb_locked through SetVpRegisters on that VP); each of them then
 *     issues a VTL0 flush that targets a locked VP (itself, all VPs, or an
 *     address list through the Ex form). No flush may complete while the
 *     locks are held; all complete with success once VTL1 unlocks. Repeated
 *     many times: never completing early, never hanging.
 *   - a flush that targets only unlocked VPs completes at once;
 *   - translate and flush: VTL1 translates a VTL0 address on VP0 with
 *     HV_TRANSLATE_GVA_TLB_FLUSH_INHIBIT, which locks VP0's VTL0 TLB until
 *     VP0 returns to VTL0; a flush of VP0 by another VP waits for that return.
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define ROUNDS          32
#define GRACE           300     /* 30 us of reference time with the locks held */
#define TIMEOUT         50000   /* 5 ms: "hangs" */

static int ncpu;
static volatile int go, started, done, fails;
static volatile u16 last_status[HV_MAX_VPS];

static inline u64 ref_time(void) { return rdmsr(HV_X64_MSR_TIME_REF_COUNT); }

/* ---- VTL0 flushes ---- */

struct flush_header {
	u64 address_space;
	u64 flags;
	u64 processor_mask;
};
#define HV_FLUSH_ALL_PROCESSORS                 (1ul << 0)
#define HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES     (1ul << 1)
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY       (1ul << 2)

static u64 flush_space(u64 flags, u64 mask)
{
	struct flush_header *in = hv_input_page();

	in->address_space = read_cr3();
	in->flags = flags;
	in->processor_mask = mask;
	return hv_hypercall(hv_control(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, false, 0, 0, 0), (u64)in, 0);
}

/* FlushVirtualAddressListEx with an "all VPs" HV_VP_SET and one GVA range. */
static u64 flush_list_ex_all(u64 gva)
{
	u64 *in = hv_input_page();

	in[0] = read_cr3();
	in[1] = 0;
	in[2] = 1;              /* HV_VP_SET format: all VPs */
	in[3] = 0;
	in[4] = gva & ~0xffful; /* one page */
	return hv_hypercall(hv_control(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, false, 0, 1, 0), (u64)in, 0);
}

static volatile int kind_now;

static void flusher(void *arg)
{
	int me = smp_id();
	u64 r;

	__atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
	switch (kind_now) {
	case 0: r = flush_space(HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY, 1ul << me); break;
	case 1: r = flush_space(HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES, 0); break;
	case 2: r = flush_list_ex_all((u64)&go); break;
	default: r = flush_space(0, 1ul << (long)arg); break;
	}
	last_status[me] = hv_status(r);
	__atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST);
}

/* ---- VTL1 side ---- */

static u16 set_lock(int vp, bool on)
{
	return hv_set_reg(vp, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0,
			  on ? HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED : 0);
}

static bool wait_until(volatile int *v, int want, u64 timeout)
{
	u64 end = ref_time() + timeout;

	while (*v < want && ref_time() < end)
		asm volatile("pause" ::: "memory");
	return *v >= want;
}

/* One round, in VTL1 on VP0: lock VP1.., release the flushers, check that
 * none completes during the grace period, unlock, wait for all. Returns a
 * bit mask of what went wrong (1 lock, 2 start, 4 early, 8 hang). */
static u64 v1_round(struct vsm_call *c)
{
	int others = ncpu - 1;
	u64 bad = 0, end;

	for (int k = 1; k < ncpu; k++)
		if (set_lock(k, true) != HV_STATUS_SUCCESS)
			bad |= 1;
	started = done = 0;
	kind_now = c->arg % 3;
	__atomic_store_n(&go, (int)c->arg + 1, __ATOMIC_SEQ_CST);
	if (!wait_until(&started, others, TIMEOUT))
		bad |= 2;
	end = ref_time() + GRACE;
	while (ref_time() < end)
		if (done)
			bad |= 4;
	for (int k = 1; k < ncpu; k++)
		if (set_lock(k, false) != HV_STATUS_SUCCESS)
			bad |= 1;
	if (!wait_until(&done, others, TIMEOUT))
		bad |= 8;
	return bad;
}

static u64 v1_set_locks(struct vsm_call *c)
{
	u64 bad = 0;

	for (int k = 1; k < ncpu; k++)
		if (set_lock(k, c->arg) != HV_STATUS_SUCCESS)
			bad |= 1;
	return bad;
}

/* Translate-and-flush: lock VP0's own VTL0 TLB with a flush-inhibiting
 * translation, release one flusher (targeting VP0), and return to VTL0
 * only after the grace period; the flush must still be pending then. */
static u64 v1_translate_inhibit(struct vsm_call *c)
{
	struct hv_translate_va_output out;
	u64 r, end;

	r = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
			    HV_TRANSLATE_GVA_VALIDATE_READ | HV_TRANSLATE_GVA_TLB_FLUSH_INHIBIT |
			    HV_TRANSLATE_GVA_VTL(HV_INPUT_VTL(0)), (u64)&go, &out);
	if (hv_status(r) || out.result_code != HV_TRANSLATE_GVA_SUCCESS)
		return 1;
	started = done = 0;
	kind_now = 3;
	__atomic_store_n(&go, (int)c->arg, __ATOMIC_SEQ_CST);
	if (!wait_until(&started, 1, TIMEOUT))
		return 2;
	end = ref_time() + GRACE;
	while (ref_time() < end)
		if (done)
			return 4;
	return 0;       /* the VTL return unlocks */
}

/* ---- APs ---- */

/* APs run this loop: one flush per value of `go`. */
static void ap_loop(void *arg)
{
	int seen = 0;

	for (;;) {
		while (go == seen)
			asm volatile("pause" ::: "memory");
		seen = go;
		if (seen < 0)
			return;
		if (seen >= 1000) {             /* the translate test: only VP1 flushes VP0 */
			if (smp_id() == 1)
				flusher((void *)0l);
			continue;
		}
		flusher((void *)0l);
	}
}

int main(void)
{
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;
	int early = 0, hung = 0, other = 0, bad_status = 0;
	long r;

	if (!vsm_report_platform())
		return report_summary();
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised: %lx", r))
		return report_summary();
	ncpu = smp_init(NULL, NULL);
	if (ncpu > HV_MAX_VPS)
		ncpu = HV_MAX_VPS;
	if (ncpu < 2) {
		report_skip("TLB lock: needs --smp 2 or more (%d CPU online)", ncpu);
		return report_summary();
	}
	for (int k = 1; k < ncpu; k++)
		vsm_bring_up_ap(k);

	for (int k = 1; k < ncpu; k++)
		on_cpu_async(k, ap_loop, NULL);

	for (int i = 0; i < ROUNDS; i++) {
		u64 bad = vsm_vtl1_call(v1_round, i);

		early += (bad & 4) != 0;
		hung += (bad & 8) != 0;
		other += (bad & 3) != 0;
		for (int k = 1; k < ncpu; k++)
			bad_status += last_status[k] != HV_STATUS_SUCCESS;
	}
	report(other == 0, "%d rounds: VTL1 locks and unlocks VP1..%d, every flusher started (%d bad rounds)",
	       ROUNDS, ncpu - 1, other);
	report(early == 0, "%d rounds x %d flushers (own VP / all VPs / list Ex): none completed while "
	       "its target was locked (%d rounds with an early completion)", ROUNDS, ncpu - 1, early);
	report(hung == 0 && bad_status == 0,
	       "every blocked flush completed with SUCCESS after the unlock (%d hung rounds, %d bad statuses)",
	       hung, bad_status);

	/* Translate with flush inhibit on VP0, flush of VP0 from VP1: waits for VP0's VTL return. */
	{
		u64 bad = vsm_vtl1_call(v1_translate_inhibit, 1000);
		bool ok = wait_until(&done, 1, TIMEOUT);

		report(bad == 0, "VTL1 translation with TLB_FLUSH_INHIBIT: VP1's flush of VP0 stays pending "
		       "while VP0 is in VTL1 (%lu)", bad);
		report(ok && last_status[1] == HV_STATUS_SUCCESS,
		       "... and completes with SUCCESS after VP0's VTL return unlocks (done %d, status %x)",
		       done, last_status[1]);
	}

	/* VP1.. locked by VTL1: VP1's flush of VP0 alone (not locked) completes at once. */
	{
		u64 bad = vsm_vtl1_call(v1_set_locks, 1);
		bool ok;

		started = done = 0;
		kind_now = 3;
		go = 2000;
		ok = wait_until(&done, 1, TIMEOUT);
		bad |= vsm_vtl1_call(v1_set_locks, 0);
		report(bad == 0 && ok && last_status[1] == HV_STATUS_SUCCESS,
		       "with VP1..%d locked, VP1's flush of VP0 only completes (done %d, status %x)",
		       ncpu - 1, done, last_status[1]);
	}
	go = -1;
	for (int k = 1; k < ncpu; k++)
		on_cpu_wait(k);
	return report_summary();
}
