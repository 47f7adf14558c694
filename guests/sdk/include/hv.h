/*
 * hv.h - the Hyper-V hypercall interface as a guest sees it: CPUID
 * discovery, synthetic MSRs, hypercall codes, control/result words, status
 * values, register names, and the byte layouts of hypercall inputs and
 * outputs, SynIC messages and the VP assist page. Section numbers (§) refer
 * to /work/shared/spec/vsm.md; every layout has _Static_asserts on its size
 * and field offsets (see the end of hv.c).
 *
 * The wrappers (sdk/hv.c) call through the hypercall page of the VTL the
 * caller runs in, with per-(VTL, VP) input/output pages. All of them return
 * the raw 64-bit hypercall result value (§1.4): status in bits 0..15
 * (hv_status()), reps completed in bits 32..43 (hv_reps()).
 */
#ifndef VSMRR_HV_H
#define VSMRR_HV_H

#include "types.h"

#define HV_NUM_VTLS             2
#define HV_MAX_VPS              4       /* VPs the SDK keeps hypercall pages for */
#define HV_PAGE_SIZE            4096ul

/* ---- CPUID (§1.6; leaf numbers and signatures: TLFS "Feature discovery") ---- */

#define HV_CPUID_VENDOR_AND_MAX_FUNCTIONS   0x40000000
#define HV_CPUID_INTERFACE                  0x40000001
#define HV_CPUID_VERSION                    0x40000002
#define HV_CPUID_FEATURES                   0x40000003
#define HV_CPUID_ENLIGHTENMENT_INFO         0x40000004
#define HV_CPUID_IMPLEMENT_LIMITS           0x40000005
#define HV_CPUID_VENDOR_EBX     0x7263694d      /* "Micr" */
#define HV_CPUID_VENDOR_ECX     0x666f736f      /* "osof" */
#define HV_CPUID_VENDOR_EDX     0x76482074      /* "t Hv" */
#define HV_CPUID_INTERFACE_HV1  0x31237648      /* "Hv#1" */

/* 0x40000003 EAX: partition privileges, low dword */
#define HV_ACCESS_VP_RUNTIME_MSR            (1u << 0)
#define HV_ACCESS_PARTITION_REFERENCE_COUNTER (1u << 1)
#define HV_ACCESS_SYNIC_MSRS                (1u << 2)
#define HV_ACCESS_SYNTHETIC_TIMER_MSRS      (1u << 3)
#define HV_ACCESS_APIC_MSRS                 (1u << 4)
#define HV_ACCESS_HYPERCALL_MSRS            (1u << 5)
#define HV_ACCESS_VP_INDEX                  (1u << 6)
#define HV_ACCESS_RESET_MSR                 (1u << 7)
#define HV_ACCESS_STATS_MSR                 (1u << 8)
#define HV_ACCESS_PARTITION_REFERENCE_TSC   (1u << 9)
#define HV_ACCESS_GUEST_IDLE_MSR            (1u << 10)
#define HV_ACCESS_FREQUENCY_MSRS            (1u << 11)
#define HV_ACCESS_DEBUG_MSRS                (1u << 12)
/* 0x40000003 EBX: partition privileges, high dword */
#define HV_POST_MESSAGES                    (1u << 4)
#define HV_SIGNAL_EVENTS                    (1u << 5)
#define HV_ACCESS_VSM                       (1u << 16)
#define HV_ACCESS_VP_REGISTERS              (1u << 17)
#define HV_FAST_HYPERCALL_OUTPUT_PRIVILEGE  (1u << 19)
#define HV_START_VIRTUAL_PROCESSOR          (1u << 21)
/* 0x40000003 EDX: features */
#define HV_FEATURE_GUEST_DEBUGGING          (1u << 1)
#define HV_FEATURE_XMM_HYPERCALL_INPUT      (1u << 4)
#define HV_FEATURE_GUEST_IDLE               (1u << 5)
#define HV_FEATURE_FREQUENCY_REGS           (1u << 8)
#define HV_FEATURE_GUEST_CRASH_REGS         (1u << 10)
#define HV_FEATURE_DEBUG_REGS               (1u << 11)
#define HV_FEATURE_NPIEP                    (1u << 12)
#define HV_FEATURE_XMM_HYPERCALL_OUTPUT     (1u << 15)
#define HV_FEATURE_HYPERCALL_MSR_LOCK       (1u << 18)
#define HV_FEATURE_DIRECT_SYNTHETIC_TIMERS  (1u << 19)
#define HV_FEATURE_CROSS_VTL_FLUSH          (1u << 28)
#define HV_FEATURE_TRANSLATE_GVA_FLAGS      (1u << 30)

/* ---- Synthetic MSRs (§1.1, §4, §7, §10) ---- */

#define HV_X64_MSR_GUEST_OS_ID              0x40000000
#define HV_X64_MSR_HYPERCALL                0x40000001
#define HV_X64_MSR_VP_INDEX                 0x40000002
#define HV_X64_MSR_RESET                    0x40000003
#define HV_X64_MSR_VP_RUNTIME               0x40000010
#define HV_X64_MSR_TIME_REF_COUNT           0x40000020
#define HV_X64_MSR_REFERENCE_TSC            0x40000021
#define HV_X64_MSR_TSC_FREQUENCY            0x40000022
#define HV_X64_MSR_APIC_FREQUENCY           0x40000023
#define HV_X64_MSR_NPIEP_CONFIG             0x40000040  /* secondary sources only */
#define HV_X64_MSR_EOI                      0x40000070
#define HV_X64_MSR_ICR                      0x40000071
#define HV_X64_MSR_TPR                      0x40000072
#define HV_X64_MSR_VP_ASSIST_PAGE           0x40000073
#define HV_X64_MSR_SCONTROL                 0x40000080
#define HV_X64_MSR_SVERSION                 0x40000081
#define HV_X64_MSR_SIEFP                    0x40000082
#define HV_X64_MSR_SIMP                     0x40000083
#define HV_X64_MSR_EOM                      0x40000084
#define HV_X64_MSR_SIRBP                    0x40000085
#define HV_X64_MSR_SINT0                    0x40000090  /* SINTn = SINT0 + n */
#define HV_X64_MSR_STIMER0_CONFIG           0x400000b0  /* STIMERn_CONFIG = + 2n */
#define HV_X64_MSR_STIMER0_COUNT            0x400000b1  /* STIMERn_COUNT = + 2n */
#define HV_X64_MSR_STATS_PARTITION_RETAIL   0x400000e0  /* secondary sources only */
#define HV_X64_MSR_STATS_PARTITION_INTERNAL 0x400000e1
#define HV_X64_MSR_STATS_VP_RETAIL          0x400000e2
#define HV_X64_MSR_STATS_VP_INTERNAL        0x400000e3
#define HV_X64_MSR_GUEST_IDLE               0x400000f0
#define HV_X64_MSR_DEBUG_DEVICE_OPTIONS     0x400000ff  /* secondary sources only */
#define HV_X64_MSR_CRASH_P0                 0x40000100
#define HV_X64_MSR_CRASH_CTL                0x40000105
#define HV_X64_MSR_BELOW_1MB_PAGE           0x40000200  /* secondary sources only */

#define HV_HYPERCALL_ENABLE                 (1ul << 0)
#define HV_HYPERCALL_LOCKED                 (1ul << 1)
#define HV_VP_ASSIST_PAGE_ENABLE            (1ul << 0)
#define HV_SYNIC_CONTROL_ENABLE             (1ul << 0)
#define HV_SYNIC_SIMP_ENABLE                (1ul << 0)
#define HV_SYNIC_SIEFP_ENABLE               (1ul << 0)
#define HV_SYNIC_SINT_MASKED                (1ul << 16)
#define HV_SYNIC_SINT_AUTO_EOI              (1ul << 17)
#define HV_SYNIC_SINT_POLLING               (1ul << 18)
#define HV_SYNIC_SINT_RESET_VALUE           HV_SYNIC_SINT_MASKED
#define HV_SYNIC_SINT_COUNT                 16
#define HV_SYNIC_INTERCEPTION_SINT_INDEX    0   /* secure intercepts: §6.1, §7 */
#define HV_STIMER_ENABLE                    (1ul << 0)
#define HV_STIMER_PERIODIC                  (1ul << 1)
#define HV_STIMER_AUTO_ENABLE               (1ul << 3)
#define HV_STIMER_DIRECT_MODE               (1ul << 12)
#define HV_STIMER_SINT_SHIFT                16

/* ---- Hypercall codes (§2) ---- */

#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE      0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST       0x0003
#define HVCALL_SEND_SYNTHETIC_CLUSTER_IPI       0x000b
#define HVCALL_MODIFY_VTL_PROTECTION_MASK       0x000c
#define HVCALL_ENABLE_PARTITION_VTL             0x000d
#define HVCALL_ENABLE_VP_VTL                    0x000f
#define HVCALL_VTL_CALL                         0x0011
#define HVCALL_VTL_RETURN                       0x0012
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX   0x0013
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX    0x0014
#define HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX    0x0015
#define HVCALL_GET_VP_REGISTERS                 0x0050
#define HVCALL_SET_VP_REGISTERS                 0x0051
#define HVCALL_TRANSLATE_VIRTUAL_ADDRESS        0x0052
#define HVCALL_POST_MESSAGE                     0x005c
#define HVCALL_SIGNAL_EVENT                     0x005d
#define HVCALL_START_VIRTUAL_PROCESSOR          0x0099
#define HVCALL_GET_VP_INDEX_FROM_APIC_ID        0x009a
#define HVCALL_TRANSLATE_VIRTUAL_ADDRESS_EX     0x00ac

/* ---- Hypercall input value, RCX (§1.3) ---- */

#define HV_HYPERCALL_FAST                   (1ul << 16)
#define HV_HYPERCALL_VARHEAD_SHIFT          17          /* bits 17..26, 8-byte units */
#define HV_HYPERCALL_NESTED                 (1ul << 31)
#define HV_HYPERCALL_REP_COUNT_SHIFT        32          /* bits 32..43 */
#define HV_HYPERCALL_REP_START_SHIFT        48          /* bits 48..59 */
#define HV_HYPERCALL_REP_MAX                0xfff

static inline u64 hv_control(u16 code, bool fast, u32 varhead_qwords,
			     u32 rep_count, u32 rep_start)
{
	return code | (fast ? HV_HYPERCALL_FAST : 0) |
	       ((u64)(varhead_qwords & 0x3ff) << HV_HYPERCALL_VARHEAD_SHIFT) |
	       ((u64)(rep_count & 0xfff) << HV_HYPERCALL_REP_COUNT_SHIFT) |
	       ((u64)(rep_start & 0xfff) << HV_HYPERCALL_REP_START_SHIFT);
}

/* ---- Hypercall result value, RAX (§1.4) ---- */

static inline u16 hv_status(u64 result) { return result & 0xffff; }
static inline u32 hv_reps(u64 result) { return (result >> 32) & 0xfff; }

#define HV_STATUS_SUCCESS                       0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE        0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT       0x0003
#define HV_STATUS_INVALID_ALIGNMENT             0x0004
#define HV_STATUS_INVALID_PARAMETER             0x0005
#define HV_STATUS_ACCESS_DENIED                 0x0006
#define HV_STATUS_INVALID_PARTITION_STATE       0x0007
#define HV_STATUS_OPERATION_DENIED              0x0008
#define HV_STATUS_UNKNOWN_PROPERTY              0x0009
#define HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE   0x000a
#define HV_STATUS_INSUFFICIENT_MEMORY           0x000b
#define HV_STATUS_PARTITION_TOO_DEEP            0x000c
#define HV_STATUS_INVALID_PARTITION_ID          0x000d
#define HV_STATUS_INVALID_VP_INDEX              0x000e
#define HV_STATUS_NOT_FOUND                     0x0010
#define HV_STATUS_INVALID_PORT_ID               0x0011
#define HV_STATUS_INVALID_CONNECTION_ID         0x0012
#define HV_STATUS_INSUFFICIENT_BUFFERS          0x0013
#define HV_STATUS_NOT_ACKNOWLEDGED              0x0014
#define HV_STATUS_INVALID_VP_STATE              0x0015
#define HV_STATUS_ACKNOWLEDGED                  0x0016
#define HV_STATUS_INVALID_SAVE_RESTORE_STATE    0x0017
#define HV_STATUS_INVALID_SYNIC_STATE           0x0018
#define HV_STATUS_OBJECT_IN_USE                 0x0019
#define HV_STATUS_NO_DATA                       0x001b
#define HV_STATUS_INACTIVE                      0x001c
#define HV_STATUS_NO_RESOURCES                  0x001d
#define HV_STATUS_FEATURE_UNAVAILABLE           0x001e
#define HV_STATUS_PARTIAL_PACKET                0x001f
#define HV_STATUS_PROCESSOR_FEATURE_NOT_SUPPORTED 0x0020
#define HV_STATUS_INVALID_LP_INDEX              0x0041
#define HV_STATUS_INVALID_REGISTER_VALUE        0x0050
#define HV_STATUS_INVALID_VTL_STATE             0x0051
#define HV_STATUS_OPERATION_FAILED              0x0071
#define HV_STATUS_TIMEOUT                       0x0078
#define HV_STATUS_CALL_PENDING                  0x0079
#define HV_STATUS_VTL_ALREADY_ENABLED           0x0086
#define HV_STATUS_UNKNOWN_REGISTER_NAME         0x0087

/* Name of a status value ("INVALID_PARAMETER"), "?" if unknown. */
const char *hv_status_name(u16 status);

/* ---- Well-known values (§1.4, §1.5) ---- */

#define HV_PARTITION_ID_SELF    0xfffffffffffffffful
#define HV_VP_INDEX_SELF        0xfffffffeu
#define HV_ANY_VP               0xffffffffu

/* HV_INPUT_VTL byte: bits 0..3 target VTL, bit 4 use target VTL. */
#define HV_INPUT_VTL_CURRENT    0x00    /* use bit clear: the caller's VTL */
#define HV_INPUT_VTL(n)         ((u8)(0x10 | ((n) & 0xf)))
#define HV_VTL_ALL              0xf
#define HV_INVALID_VTL          0xff

/* ---- Register names (§3) ---- */

/* x64 general purpose registers, RAX..R15 in architectural order */
#define HV_X64_REGISTER_RAX             0x00020000
#define HV_X64_REGISTER_RCX             0x00020001
#define HV_X64_REGISTER_RDX             0x00020002
#define HV_X64_REGISTER_RBX             0x00020003
#define HV_X64_REGISTER_RSP             0x00020004
#define HV_X64_REGISTER_RBP             0x00020005
#define HV_X64_REGISTER_RSI             0x00020006
#define HV_X64_REGISTER_RDI             0x00020007
#define HV_X64_REGISTER_R8              0x00020008      /* R8..R15 = 0x00020008..F */
#define HV_X64_REGISTER_RIP             0x00020010
#define HV_X64_REGISTER_RFLAGS          0x00020011
#define HV_X64_REGISTER_XMM0            0x00030000
#define HV_X64_REGISTER_FP_CONTROL_STATUS  0x00030018
#define HV_X64_REGISTER_XMM_CONTROL_STATUS 0x00030019
#define HV_X64_REGISTER_CR0             0x00040000
#define HV_X64_REGISTER_CR2             0x00040001
#define HV_X64_REGISTER_CR3             0x00040002
#define HV_X64_REGISTER_CR4             0x00040003
#define HV_X64_REGISTER_CR8             0x00040004
#define HV_X64_REGISTER_XFEM            0x00040005
#define HV_X64_REGISTER_DR0             0x00050000
#define HV_X64_REGISTER_DR6             0x00050004
#define HV_X64_REGISTER_DR7             0x00050005
#define HV_X64_REGISTER_ES              0x00060000
#define HV_X64_REGISTER_CS              0x00060001
#define HV_X64_REGISTER_SS              0x00060002
#define HV_X64_REGISTER_DS              0x00060003
#define HV_X64_REGISTER_FS              0x00060004
#define HV_X64_REGISTER_GS              0x00060005
#define HV_X64_REGISTER_LDTR            0x00060006
#define HV_X64_REGISTER_TR              0x00060007
#define HV_X64_REGISTER_IDTR            0x00070000
#define HV_X64_REGISTER_GDTR            0x00070001
#define HV_X64_REGISTER_TSC             0x00080000
#define HV_X64_REGISTER_EFER            0x00080001
#define HV_X64_REGISTER_KERNEL_GS_BASE  0x00080002
#define HV_X64_REGISTER_APIC_BASE       0x00080003
#define HV_X64_REGISTER_PAT             0x00080004
#define HV_X64_REGISTER_SYSENTER_CS     0x00080005
#define HV_X64_REGISTER_SYSENTER_EIP    0x00080006
#define HV_X64_REGISTER_SYSENTER_ESP    0x00080007
#define HV_X64_REGISTER_STAR            0x00080008
#define HV_X64_REGISTER_LSTAR           0x00080009
#define HV_X64_REGISTER_CSTAR           0x0008000a
#define HV_X64_REGISTER_SFMASK          0x0008000b
#define HV_X64_REGISTER_INITIAL_APIC_ID 0x0008000c
#define HV_X64_REGISTER_TSC_AUX         0x0008007b
#define HV_X64_REGISTER_APIC_TPR        0x00084808
/* synthetic */
#define HV_REGISTER_VP_RUNTIME          0x00090000
#define HV_REGISTER_HYPERCALL           0x00090001
#define HV_REGISTER_GUEST_OS_ID         0x00090002
#define HV_REGISTER_VP_INDEX            0x00090003
#define HV_REGISTER_TIME_REF_COUNT      0x00090004
#define HV_REGISTER_VP_ASSIST_PAGE      0x00090013
#define HV_REGISTER_REFERENCE_TSC       0x00090017
#define HV_REGISTER_SINT0               0x000a0000
#define HV_REGISTER_SCONTROL            0x000a0010
#define HV_REGISTER_SVERSION            0x000a0011
#define HV_REGISTER_SIFP                0x000a0012
#define HV_REGISTER_SIPP                0x000a0013
#define HV_REGISTER_EOM                 0x000a0014
#define HV_REGISTER_SIRBP               0x000a0015
#define HV_REGISTER_STIMER0_CONFIG      0x000b0000
#define HV_REGISTER_STIMER0_COUNT       0x000b0001
/* interrupt and event state */
#define HV_REGISTER_INTERNAL_ACTIVITY_STATE 0x00000004
#define HV_REGISTER_PENDING_INTERRUPTION    0x00010002
#define HV_REGISTER_INTERRUPT_STATE         0x00010003
#define HV_REGISTER_PENDING_EVENT0          0x00010004
#define HV_REGISTER_PENDING_EVENT1          0x00010005
#define HV_REGISTER_GUEST_CRASH_P0          0x00000210
#define HV_REGISTER_GUEST_CRASH_CTL         0x00000215
/* VSM (§3.1) */
#define HV_REGISTER_VSM_CODE_PAGE_OFFSETS   0x000d0002
#define HV_REGISTER_VSM_VP_STATUS           0x000d0003
#define HV_REGISTER_VSM_PARTITION_STATUS    0x000d0004
#define HV_REGISTER_VSM_VINA                0x000d0005
#define HV_REGISTER_VSM_CAPABILITIES        0x000d0006
#define HV_REGISTER_VSM_PARTITION_CONFIG    0x000d0007
#define HV_REGISTER_GUEST_VSM_PARTITION_CONFIG 0x000d0008
#define HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0  0x000d0010    /* + n for VTL n */
#define HV_REGISTER_VSM_VP_WAIT_FOR_TLB_LOCK   0x000d0020
#define HV_REGISTER_CR_INTERCEPT_CONTROL       0x000e0000
#define HV_REGISTER_CR_INTERCEPT_CR0_MASK      0x000e0001
#define HV_REGISTER_CR_INTERCEPT_CR4_MASK      0x000e0002
#define HV_REGISTER_CR_INTERCEPT_IA32_MISC_ENABLE_MASK 0x000e0003

/* VsmCodePageOffsets (§3.1) */
#define HV_VSM_CODE_PAGE_CALL_OFFSET(v)     ((u32)((v) & 0xfff))
#define HV_VSM_CODE_PAGE_RETURN_OFFSET(v)   ((u32)(((v) >> 12) & 0xfff))
/* VsmVpStatus */
#define HV_VSM_VP_STATUS_ACTIVE_VTL(v)      ((u32)((v) & 0xf))
#define HV_VSM_VP_STATUS_ACTIVE_MBEC        (1ul << 4)
#define HV_VSM_VP_STATUS_ENABLED_VTLS(v)    ((u32)(((v) >> 16) & 0xffff))
/* VsmPartitionStatus */
#define HV_VSM_PARTITION_STATUS_ENABLED_VTLS(v)  ((u32)((v) & 0xffff))
#define HV_VSM_PARTITION_STATUS_MAX_VTL(v)       ((u32)(((v) >> 16) & 0xf))
#define HV_VSM_PARTITION_STATUS_MBEC_VTLS(v)     ((u32)(((v) >> 20) & 0xffff))
#define HV_VSM_PARTITION_STATUS_SSS_VTLS(v)      ((u32)(((v) >> 36) & 0xf))
/* VsmCapabilities (OpenVMM layout; kvm-unit-tests disagrees, see §3.1) */
#define HV_VSM_CAP_DR6_SHARED               (1ul << 0)
#define HV_VSM_CAP_MBEC_VTL_MASK(v)         ((u32)(((v) >> 1) & 0xffff))
#define HV_VSM_CAP_DENY_LOWER_VTL_STARTUP   (1ul << 17)
/* VsmPartitionConfig */
#define HV_VSM_CONFIG_ENABLE_VTL_PROTECTION (1ul << 0)
#define HV_VSM_CONFIG_DEFAULT_MASK_SHIFT    1           /* bits 1..4 */
#define HV_VSM_CONFIG_DEFAULT_MASK(v)       ((u32)(((v) >> 1) & 0xf))
#define HV_VSM_CONFIG_ZERO_MEMORY_ON_RESET  (1ul << 5)
#define HV_VSM_CONFIG_DENY_LOWER_VTL_STARTUP (1ul << 6)
#define HV_VSM_CONFIG_INTERCEPT_VP_STARTUP  (1ul << 9)
/* VsmVpSecureConfigVtlN */
#define HV_VSM_VP_SECURE_CONFIG_MBEC        (1ul << 0)
#define HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED  (1ul << 1)
/* VsmVina */
#define HV_VSM_VINA_ENABLED                 (1ul << 8)
#define HV_VSM_VINA_AUTO_RESET              (1ul << 9)
#define HV_VSM_VINA_AUTO_EOI                (1ul << 10)
/* CrInterceptControl bits */
#define HV_CR_INTERCEPT_CR0_WRITE           (1ul << 0)
#define HV_CR_INTERCEPT_CR4_WRITE           (1ul << 1)
#define HV_CR_INTERCEPT_XCR0_WRITE          (1ul << 2)
#define HV_CR_INTERCEPT_MISC_ENABLE_READ    (1ul << 3)
#define HV_CR_INTERCEPT_MISC_ENABLE_WRITE   (1ul << 4)
#define HV_CR_INTERCEPT_LSTAR_READ          (1ul << 5)
#define HV_CR_INTERCEPT_LSTAR_WRITE         (1ul << 6)
#define HV_CR_INTERCEPT_STAR_READ           (1ul << 7)
#define HV_CR_INTERCEPT_STAR_WRITE          (1ul << 8)
#define HV_CR_INTERCEPT_CSTAR_READ          (1ul << 9)
#define HV_CR_INTERCEPT_CSTAR_WRITE         (1ul << 10)
#define HV_CR_INTERCEPT_APIC_BASE_READ      (1ul << 11)
#define HV_CR_INTERCEPT_APIC_BASE_WRITE     (1ul << 12)
#define HV_CR_INTERCEPT_EFER_READ           (1ul << 13)
#define HV_CR_INTERCEPT_EFER_WRITE          (1ul << 14)
#define HV_CR_INTERCEPT_GDTR_WRITE          (1ul << 15)
#define HV_CR_INTERCEPT_IDTR_WRITE          (1ul << 16)
#define HV_CR_INTERCEPT_LDTR_WRITE          (1ul << 17)
#define HV_CR_INTERCEPT_TR_WRITE            (1ul << 18)
#define HV_CR_INTERCEPT_SYSENTER_CS_WRITE   (1ul << 19)
#define HV_CR_INTERCEPT_SYSENTER_EIP_WRITE  (1ul << 20)
#define HV_CR_INTERCEPT_SYSENTER_ESP_WRITE  (1ul << 21)
#define HV_CR_INTERCEPT_SFMASK_WRITE        (1ul << 22)
#define HV_CR_INTERCEPT_TSC_AUX_WRITE       (1ul << 23)

/* PendingEvent0 with an exception (§3.2) */
static inline u64 hv_pending_exception_lo(u8 vector, bool has_error, u32 error)
{
	return 1ul /* pending */ | (0ul << 1) /* type: exception */ |
	       ((u64)has_error << 8) | ((u64)vector << 16) | ((u64)error << 32);
}

/* ---- Register values and input/output blocks ---- */

/* Segment register (§2.2). Attributes: 0..3 type, 4 S, 5..6 DPL, 7 P,
 * 8..11 reserved, 12 AVL, 13 L, 14 D/B, 15 G. */
struct hv_x64_segment_register {
	u64 base;
	u32 limit;
	u16 selector;
	u16 attributes;
};

/* Table register (§2.2): 6 bytes of padding, limit, base. */
struct hv_x64_table_register {
	u16 pad[3];
	u16 limit;
	u64 base;
};

union hv_register_value {
	u64 q[2];
	u32 d[4];
	u8 b[16];
	struct hv_x64_segment_register seg;
	struct hv_x64_table_register table;
};

/* HvCallSetVpRegisters rep element (§2.5): name, 12 reserved bytes, value. */
struct hv_register_assoc {
	u32 name;
	u32 reserved1;
	u64 reserved2;
	union hv_register_value value;
};

/* Header of HvCallGet/SetVpRegisters (§2.5). */
struct hv_vp_registers_header {
	u64 partition_id;
	u32 vp_index;
	u8 input_vtl;
	u8 reserved[3];
};

/* HV_INITIAL_VP_CONTEXT (§2.2), 224 bytes. */
struct hv_initial_vp_context {
	u64 rip;
	u64 rsp;
	u64 rflags;
	struct hv_x64_segment_register cs, ds, es, fs, gs, ss, tr, ldtr;
	struct hv_x64_table_register idtr, gdtr;
	u64 efer;
	u64 cr0;
	u64 cr3;
	u64 cr4;
	u64 msr_cr_pat;
};

/* HvCallEnableVpVtl / HvCallStartVirtualProcessor input (§2.2, §2.8), 240 bytes. */
struct hv_enable_vp_vtl_input {
	u64 partition_id;
	u32 vp_index;
	u8 target_vtl;          /* plain VTL number (see §2.2) */
	u8 reserved[3];
	struct hv_initial_vp_context context;
};

/* HvCallEnablePartitionVtl input (§2.1), 16 bytes. */
struct hv_enable_partition_vtl_input {
	u64 partition_id;
	u8 target_vtl;
	u8 flags;
	u16 reserved16;
	u32 reserved32;
};
#define HV_ENABLE_PARTITION_VTL_MBEC        (1u << 0)
#define HV_ENABLE_PARTITION_VTL_SSS         (1u << 1)
#define HV_ENABLE_PARTITION_VTL_HW_HVPT     (1u << 2)

/* HvCallModifyVtlProtectionMask header (§2.4), 16 bytes; u64 GPNs follow. */
struct hv_modify_vtl_protection_mask_header {
	u64 partition_id;
	u32 map_flags;
	u8 input_vtl;
	u8 reserved[3];
};

/* HV_MAP_GPA_FLAGS (§6) */
#define HV_MAP_GPA_READABLE                 (1u << 0)
#define HV_MAP_GPA_WRITABLE                 (1u << 1)
#define HV_MAP_GPA_KERNEL_EXECUTABLE        (1u << 2)
#define HV_MAP_GPA_USER_EXECUTABLE          (1u << 3)
#define HV_MAP_GPA_SUPERVISOR_SHADOW_STACK  (1u << 4)
#define HV_MAP_GPA_PAGING_WRITABILITY       (1u << 5)
#define HV_MAP_GPA_VERIFY_PAGING_WRITABILITY (1u << 6)
#define HV_MAP_GPA_ADJUSTABLE               (1u << 15)
#define HV_MAP_GPA_NO_ACCESS                0u
#define HV_MAP_GPA_EXECUTABLE   (HV_MAP_GPA_KERNEL_EXECUTABLE | HV_MAP_GPA_USER_EXECUTABLE)
#define HV_MAP_GPA_PERMISSIONS_ALL (HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE | HV_MAP_GPA_EXECUTABLE)

/* HvCallTranslateVirtualAddress(Ex) (§2.6) */
struct hv_translate_va_input {
	u64 partition_id;
	u32 vp_index;
	u32 reserved;
	u64 control_flags;
	u64 gva_page;           /* GVA >> 12 */
};
struct hv_translate_va_output {
	u32 result_code;
	u8 cache_type;
	u8 flags;               /* bit 0: overlay page */
	u16 reserved;
	u64 gpa_page;
};
struct hv_translate_va_ex_output {
	u32 result_code;        /* the same 8-byte translation result as above */
	u8 cache_type;
	u8 flags;
	u16 reserved;
	u64 reserved2;
	u8 pending_event[32];   /* HvX64PendingEvent */
	u64 gpa_page;
	u64 reserved3;
};
#define HV_TRANSLATE_GVA_VALIDATE_READ      (1ul << 0)
#define HV_TRANSLATE_GVA_VALIDATE_WRITE     (1ul << 1)
#define HV_TRANSLATE_GVA_VALIDATE_EXECUTE   (1ul << 2)
#define HV_TRANSLATE_GVA_PRIVILEGE_EXEMPT   (1ul << 3)
#define HV_TRANSLATE_GVA_SET_PAGE_TABLE_BITS (1ul << 4)
#define HV_TRANSLATE_GVA_TLB_FLUSH_INHIBIT  (1ul << 5)
#define HV_TRANSLATE_GVA_SUPERVISOR_ACCESS  (1ul << 6)
#define HV_TRANSLATE_GVA_USER_ACCESS        (1ul << 7)
#define HV_TRANSLATE_GVA_ENFORCE_SMAP       (1ul << 8)
#define HV_TRANSLATE_GVA_OVERRIDE_SMAP      (1ul << 9)
#define HV_TRANSLATE_GVA_SHADOW_STACK       (1ul << 10)
#define HV_TRANSLATE_GVA_INPUT_VTL_SHIFT    56
#define HV_TRANSLATE_GVA_VTL(input_vtl)     ((u64)(u8)(input_vtl) << HV_TRANSLATE_GVA_INPUT_VTL_SHIFT)
#define HV_TRANSLATE_GVA_OVERLAY_PAGE       (1u << 0)

#define HV_TRANSLATE_GVA_SUCCESS                    0
#define HV_TRANSLATE_GVA_PAGE_NOT_PRESENT           1
#define HV_TRANSLATE_GVA_PRIVILEGE_VIOLATION        2
#define HV_TRANSLATE_GVA_INVALID_PAGE_TABLE_FLAGS   3
#define HV_TRANSLATE_GVA_GPA_UNMAPPED               4
#define HV_TRANSLATE_GVA_GPA_NO_READ_ACCESS         5
#define HV_TRANSLATE_GVA_GPA_NO_WRITE_ACCESS        6
#define HV_TRANSLATE_GVA_GPA_ILLEGAL_OVERLAY_ACCESS 7
#define HV_TRANSLATE_GVA_INTERCEPT                  8
#define HV_TRANSLATE_GVA_GPA_UNACCEPTED             9

#define HV_CACHE_TYPE_UNCACHED          0
#define HV_CACHE_TYPE_WRITE_COMBINING   1
#define HV_CACHE_TYPE_WRITE_THROUGH     4
#define HV_CACHE_TYPE_WRITE_PROTECTED   5
#define HV_CACHE_TYPE_WRITE_BACK        6

/* ---- VP assist page (§4) ---- */

#define HV_VTL_ENTRY_REASON_RESERVED    0
#define HV_VTL_ENTRY_REASON_VTL_CALL    1
#define HV_VTL_ENTRY_REASON_INTERRUPT   2
#define HV_VTL_ENTRY_REASON_INTERCEPT   3       /* OpenVMM only */

struct hv_vp_vtl_control {
	u32 entry_reason;
	u8 vina_status;                 /* bit 0: VINA asserted */
	u8 reserved0;
	u16 reserved1;
	u64 vtl_return_rax;             /* loaded into the lower VTL's RAX on a non-fast return */
	u64 vtl_return_rcx;
};

struct hv_vp_assist_page {
	u32 apic_assist;
	u32 reserved0;
	struct hv_vp_vtl_control vtl_control;   /* 0x08 */
	u64 nested_control;                     /* 0x20 */
	u8 enlighten_vm_entry;                  /* 0x28 */
	u8 reserved1[7];
	u64 current_nested_vmcs;                /* 0x30 */
	u8 synthetic_time_unhalted_timer_expired; /* 0x38 */
	u8 reserved2[7];
	u8 virtualization_fault_information[40]; /* 0x40 */
	u64 reserved3;                          /* 0x68 */
	u8 intercept_message[256];              /* 0x70 */
	u8 vtl_return_actions[256];             /* 0x170 */
};

/* ---- SynIC messages (§6, §7) ---- */

#define HVMSG_NONE                          0x00000000
#define HVMSG_UNMAPPED_GPA                  0x80000000
#define HVMSG_GPA_INTERCEPT                 0x80000001
#define HVMSG_UNACCEPTED_GPA                0x80000003
#define HVMSG_GPA_ATTRIBUTE_INTERCEPT       0x80000004
#define HVMSG_ENABLE_PARTITION_VTL_INTERCEPT 0x80000005
#define HVMSG_TIMER_EXPIRED                 0x80000010
#define HVMSG_INVALID_VP_REGISTER_VALUE     0x80000020
#define HVMSG_UNRECOVERABLE_EXCEPTION       0x80000021
#define HVMSG_UNSUPPORTED_FEATURE           0x80000022
#define HVMSG_EVENTLOG_BUFFER_COMPLETE      0x80000040
#define HVMSG_HYPERCALL_INTERCEPT           0x80000050
#define HVMSG_SYNIC_SINT_DELIVERABLE        0x80000062
#define HVMSG_X64_IO_PORT_INTERCEPT         0x80010000
#define HVMSG_X64_MSR_INTERCEPT             0x80010001
#define HVMSG_X64_CPUID_INTERCEPT           0x80010002
#define HVMSG_X64_EXCEPTION_INTERCEPT       0x80010003
#define HVMSG_X64_APIC_EOI                  0x80010004
#define HVMSG_X64_REGISTER_INTERCEPT        0x80010006  /* OpenVMM; Linux calls 0x80010006 IOMMU_PRQ (§6.3) */
#define HVMSG_X64_HALT                      0x80010007
#define HVMSG_X64_INTERRUPTION_DELIVERABLE  0x80010008
#define HVMSG_X64_SIPI_INTERCEPT            0x80010009

#define HV_MESSAGE_SIZE                     256
#define HV_MESSAGE_PAYLOAD_BYTES            240
#define HV_MESSAGE_FLAG_PENDING             (1u << 0)

struct hv_message_header {
	u32 message_type;
	u8 payload_size;
	u8 message_flags;
	u16 reserved;
	u64 sender;                     /* or port id */
};

struct hv_message {
	struct hv_message_header header;
	union {
		u64 payload[HV_MESSAGE_PAYLOAD_BYTES / 8];
		u8 payload_bytes[HV_MESSAGE_PAYLOAD_BYTES];
	};
};

struct hv_message_page {
	struct hv_message sint_message[HV_SYNIC_SINT_COUNT];
};

/* Intercept access types (§6.2) */
#define HV_INTERCEPT_ACCESS_READ        0
#define HV_INTERCEPT_ACCESS_WRITE       1
#define HV_INTERCEPT_ACCESS_EXECUTE     2

/* Execution state bits (§6.2) */
#define HV_EXEC_STATE_CPL(v)            ((v) & 3)
#define HV_EXEC_STATE_CR0_PE            (1u << 2)
#define HV_EXEC_STATE_CR0_AM            (1u << 3)
#define HV_EXEC_STATE_EFER_LMA          (1u << 4)
#define HV_EXEC_STATE_DEBUG_ACTIVE      (1u << 5)
#define HV_EXEC_STATE_INTERRUPTION_PENDING (1u << 6)
#define HV_EXEC_STATE_VTL(v)            (((v) >> 7) & 0xf)
#define HV_EXEC_STATE_ENCLAVE_MODE      (1u << 11)
#define HV_EXEC_STATE_INTERRUPT_SHADOW  (1u << 12)

/* Intercept message header (§6.2), 40 bytes. */
struct hv_x64_intercept_message_header {
	u32 vp_index;
	u8 instruction_length_cr8;      /* bits 0..3 length, 4..7 CR8 */
	u8 access_type;
	u16 execution_state;
	struct hv_x64_segment_register cs;
	u64 rip;
	u64 rflags;
};
#define HV_INTERCEPT_INSTRUCTION_LENGTH(h)  ((h)->instruction_length_cr8 & 0xf)
#define HV_INTERCEPT_CR8(h)                 ((h)->instruction_length_cr8 >> 4)

/* Memory access info bits (§6.1) */
#define HV_MEMORY_ACCESS_GVA_VALID          (1u << 0)
#define HV_MEMORY_ACCESS_GVA_GPA_VALID      (1u << 1)
#define HV_MEMORY_ACCESS_HYPERCALL_OUTPUT_PENDING (1u << 2)
#define HV_MEMORY_ACCESS_TLB_LOCKED         (1u << 3)
#define HV_MEMORY_ACCESS_SSS                (1u << 4)

/* HvX64MemoryInterceptMessage, long form (§6.1), 0xF0 bytes. */
struct hv_x64_memory_intercept_message {
	struct hv_x64_intercept_message_header header;
	u32 cache_type;
	u8 instruction_byte_count;
	u8 memory_access_info;
	u8 tpr_priority;                /* OpenVMM; reserved (0) in the kvm-unit-tests */
	u8 reserved;
	u64 gva;
	u64 gpa;
	u8 instruction_bytes[16];
	struct hv_x64_segment_register ds;
	struct hv_x64_segment_register ss;
	u64 rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

/* HvX64MsrInterceptMessage (§6.3) */
struct hv_x64_msr_intercept_message {
	struct hv_x64_intercept_message_header header;
	u32 msr_number;
	u32 reserved;
	u64 rdx;
	u64 rax;
};

/* HvX64RegisterInterceptMessage (§6.3) */
struct hv_x64_register_intercept_message {
	struct hv_x64_intercept_message_header header;
	u8 flags;                       /* bit 0: memory operand */
	u8 reserved1;
	u16 reserved2;
	u32 register_name;
	union hv_register_value access_info;    /* the value being written */
};

/* ---- Discovery and setup (sdk/hv.c) ---- */

struct hv_info {
	bool present;                   /* CPUID.1:ECX[31] */
	u32 max_leaf;                   /* 0x40000000 EAX */
	char vendor[13];                /* 0x40000000 EBX:ECX:EDX */
	u32 interface;                  /* 0x40000001 EAX */
	u32 build, version;             /* 0x40000002 EAX, EBX */
	u32 priv_lo, priv_hi;           /* 0x40000003 EAX, EBX */
	u32 features_ecx, features_edx; /* 0x40000003 ECX, EDX */
	u32 max_vps;                    /* 0x40000005 EAX */
};
extern struct hv_info hv_info;

/* Guest OS IDs the SDK writes (§1.1: any non-zero value; bit 63 = open
 * source). VTL1 uses a different one so the MSR's banking is observable. */
#define HV_GUEST_OS_ID_VTL0     0x8f00000000000001ul
#define HV_GUEST_OS_ID_VTL1     0x8f00000000000101ul

/* Fill hv_info from CPUID; true if "Microsoft Hv" with interface "Hv#1". */
bool hv_detect(void);
/* BSP, VTL0: hv_detect(), then hv_init_cpu(). 0 on success, -1 with a
 * printed reason. */
int hv_init(void);
/* Any VP, VTL0: GUEST_OS_ID, then HYPERCALL with the SDK's VTL0 page. */
void hv_init_cpu(void);
/* Current VP and VTL: write GUEST_OS_ID = os_id, then enable `page` as this
 * VTL's hypercall page, and remember it for the wrappers. */
void hv_enable_hypercalls(void *page, u64 os_id);
/* The VTL this code runs in, as far as the SDK knows it: 1 when the GS base
 * is not VTL0's struct percpu (VTL1 runs on its own percpu copy, vsm.c). */
int hv_current_vtl(void);
/* Hypercall page of a VTL (NULL before enabling) and registration of the
 * input/output pages of (vtl, vp) (VTL0's are built in). */
void *hv_hypercall_page(int vtl);
void hv_set_io_pages(int vtl, int vp, void *in, void *out);
/* Per-(VTL, VP) input and output pages of the caller. */
void *hv_input_page(void);
void *hv_output_page(void);
/* The page holding VTL `vtl`'s hypercall bookkeeping (so VTL1 can protect
 * its own from VTL0). */
void *hv_vtl_state_page(int vtl);

/* ---- Raw hypercalls through the current VTL's hypercall page (§1.2) ---- */

/* 16-byte XMM registers XMM0..XMM5 as 12 qwords (low qword first). */
struct hv_xmm {
	u64 q[12];
};

/* Memory-based: control in RCX, input/output GPAs in RDX/R8. */
u64 hv_hypercall(u64 control, u64 input_gpa, u64 output_gpa);
/* Register-based (fast bit added): RDX/R8 in and out. */
u64 hv_hypercall_fast(u64 control, u64 *rdx, u64 *r8);
/* XMM fast: RDX/R8 plus XMM0..XMM5 loaded from and stored back to *x. */
u64 hv_hypercall_xmm(u64 control, u64 *rdx, u64 *r8, struct hv_xmm *x);

/* ---- Typed wrappers (raw result value; see hv_status/hv_reps) ---- */

/* HvCallGetVpRegisters, slow: n names -> n 16-byte values. */
u64 hv_get_vp_registers(u64 partition, u32 vp, u8 input_vtl, const u32 *names,
			int n, union hv_register_value *values);
/* HvCallSetVpRegisters, slow: n 32-byte HV_REGISTER_ASSOC elements. */
u64 hv_set_vp_registers(u64 partition, u32 vp, u8 input_vtl, const u32 *names,
			const union hv_register_value *values, int n);
/* XMM fast forms (§2.5): Get packs names 4 per XMM and reads values from
 * the XMM after the names; Set puts element i in XMM(2i)/XMM(2i+1). n is
 * passed through even when it cannot fit, so the failure can be tested;
 * values are only copied out when they fit. */
u64 hv_get_vp_registers_fast(u64 partition, u32 vp, u8 input_vtl,
			     const u32 *names, int n, union hv_register_value *values);
u64 hv_set_vp_registers_fast(u64 partition, u32 vp, u8 input_vtl, const u32 *names,
			     const union hv_register_value *values, int n);
/* One 64-bit register of (vp, vtl); returns the status. */
u16 hv_get_reg(u32 vp, u8 input_vtl, u32 name, u64 *value);
u16 hv_set_reg(u32 vp, u8 input_vtl, u32 name, u64 value);
/* Own register in the current VTL; panics if the call fails (setup paths). */
u64 hv_read_reg(u32 name);

/* HvCallModifyVtlProtectionMask: slow (n <= 510) and XMM fast (n <= 12). */
u64 hv_modify_vtl_protection_mask(u64 partition, u8 input_vtl, u32 map_flags,
				  const u64 *gpns, int n);
u64 hv_modify_vtl_protection_mask_fast(u64 partition, u8 input_vtl, u32 map_flags,
				       const u64 *gpns, int n);

/* HvCallTranslateVirtualAddress(Ex). flags include the VTL (bits 56..63,
 * HV_TRANSLATE_GVA_VTL()); gva is a ful address (the wrapper shifts). */
u64 hv_translate_va(u64 partition, u32 vp, u64 flags, u64 gva,
		    struct hv_translate_va_output *out);
u64 hv_translate_va_ex(u64 partition, u32 vp, u64 flags, u64 gva,
		       struct hv_translate_va_ex_output *out);
/* XMM fast form: header in RDX/R8, flags+GVA page in XMM0, result in XMM1. */
u64 hv_translate_va_fast(u64 partition, u32 vp, u64 flags, u64 gva,
			 struct hv_translate_va_output *out);

/* HvCallStartVirtualProcessor (§2.8). */
u64 hv_start_virtual_processor(u64 partition, u32 vp, u8 vtl,
			       const struct hv_initial_vp_context *ctx);
/* HvCallGetVpIndexFromApicId with one element (§2.9: with a single
 * zero-padded element the 4- and 8-byte layouts read the same bytes). */
u64 hv_get_vp_index_from_apic_id(u64 partition, u8 vtl, u32 apic_id, u32 *vp);
/* HvCallSendSyntheticClusterIpi (§2.10), memory form. */
u64 hv_send_synthetic_cluster_ipi(u32 vector, u8 input_vtl, u64 vp_mask);

/* VP assist page and SynIC of the current VP and VTL. */
void hv_enable_vp_assist(void *page);
void hv_synic_enable(void *simp, void *siefp);

/* Print a message (header, decoded intercept fields, payload hex). */
void hv_dump_message(const char *prefix, const struct hv_message *m);

/* report() that the status of `result` is `want`, printing both by name:
 * "PASS: <what>: INVALID_PARAMETER (0x5), expected INVALID_PARAMETER". */
bool hv_report_status(u64 result, u16 want, const char *fmt, ...) __printf(3, 4);
/* The same with two acceptable statuses (for results vsm.md marks as
 * implementation-specific). */
bool hv_report_status2(u64 result, u16 want1, u16 want2, const char *fmt, ...) __printf(4, 5);
/* report() that the call failed (any status but SUCCESS). */
bool hv_report_failure(u64 result, const char *fmt, ...) __printf(2, 3);

#endif
