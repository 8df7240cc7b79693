// SPDX-License-Identifier: MIT
/*
 * kvmmu-driver: executes a lowered .kvmmu scenario through the KVM API, in the style of KVM's selftests.
 * Written for kvmmu; reads driver instructions (one per line, see docs/real-kvm.md and
 * core/src/real/lower.ts) from stdin and reports each instruction's result on stdout.
 *
 * Guest instructions (CR0/CR3/CR4/EFER writes, RSM, VMRUN, INVLPG, the L2 exit) are queued per vCPU and run
 * by the next `run` of that vCPU as one small code stub that ends in HLT: KVM sees them exactly as a guest
 * would execute them. The driver keeps identity-mapped page tables valid at every CR3 the guest uses, in the
 * paging mode it is about to be in, so the stub keeps executing after each write.
 *
 * Instructions:
 *   vm VCPUS NESTED            create the VM, its RAM (slot 0, and the SMRAM alias in address space 1) and vCPUs
 *   mark TEXT                  write "kvmmu: TEXT" to the trace marker
 *   slot S GPA                 create memslot S (1 MiB at GPA);   delslot S;   moveslot S GPA
 *   sregs V CR0 CR3 CR4 EFER   KVM_SET_SREGS with the given registers ('-' keeps one), segments to match
 *   q V wcr N OP VALUE         queue MOV to CR N (0, 3, 4) or EFER (N = 8); OP is '=', '|' or '&'
 *   q V rsm | q V invlpg ADDR | q V vmexit
 *   q V vmrun NPT NCR3 CR0 CR3 CR4 EFER   ('-' = L1's value)
 *   run V                      execute the queue, then HLT, in one KVM_RUN
 *   smi V                      KVM_SMI
 *   cpuid V MAXPHYADDR         KVM_SET_CPUID2 with CPUID.0x80000008.EAX[7:0] = MAXPHYADDR
 *   destroyvm                  close every vCPU and the VM
 * Output: "ok LINE-OF-INPUT" or "fail REASON"; after a failure the scenario stops ("stop").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE (8ul << 20)
#define SMBASE 0x30000ul
#define STUB_L1 0xF000ul /* vCPU i: STUB_L1 + i * 0x100 */
#define STUB_L2 0xF800ul /* vCPU i: STUB_L2 + i * 0x80 */
#define SMM_STUB 0x100ul /* offset from SMBASE + 0x8000 */
#define PT32 0x7F0000ul  /* 32-bit page table: 4 MiB of 4 KiB pages */
#define PDPT 0x7F1000ul
#define PD 0x7F2000ul    /* 2 MiB pages: 8 MiB */
#define PML4 0x7F3000ul  /* for 5-level paging */
#define NPDPT 0x7F4000ul /* nested NPT tables (user bit set, as NPT requires) */
#define NPD 0x7F5000ul
#define NPML4 0x7F6000ul
#define PAE_POOL 0x600000ul /* four page directories per PAE CR3, up to PAE_POOL_END */
#define PAE_POOL_END 0x7B0000ul
#define VMCB 0x7E0000ul
#define HSAVE 0x7D0000ul /* vCPU i: HSAVE + i * 0x1000 */
#define IOPM 0x7C0000ul  /* 12 KiB */
#define MSRPM 0x7B0000ul /* 8 KiB */
#define MAX_VCPUS 8
#define MAX_SLOTS 32
#define SLOT_SIZE (1ul << 20)

#define CR0_PE 1ull
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_SVME (1ull << 12)
#define MSR_EFER 0xC0000080u

struct queued {
	char kind[16];
	int reg;
	char op;
	uint64_t value;
	/* vmrun */
	int npt;
	uint64_t ncr3, cr0, cr3, cr4, efer;
	int has_cr0, has_cr3, has_cr4, has_efer;
};

static int kvm_fd = -1, vm_fd = -1, marker_fd = -1;
static int vcpu_fd[MAX_VCPUS];
static struct kvm_run *vcpu_run[MAX_VCPUS];
static int nvcpus;
static size_t run_size;
static uint8_t *ram;
static uint8_t *slot_mem[MAX_SLOTS];
static uint64_t slot_gpa[MAX_SLOTS];
static struct queued queue[MAX_VCPUS][32];
static int queued_n[MAX_VCPUS];
static int stopped;
static int smi_pending[MAX_VCPUS];
static struct kvm_cpuid2 *cpuid;

static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int fail(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("fail %s", buf);
	stopped = 1;
	return -1;
}

static void mark(const char *text)
{
	char buf[300];
	int n = snprintf(buf, sizeof(buf), "kvmmu: %s\n", text);
	if (marker_fd >= 0 && write(marker_fd, buf, n) < 0)
		marker_fd = -1;
}

static void w32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static void w64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static void w16(uint64_t gpa, uint16_t v) { memcpy(ram + gpa, &v, 2); }

/* Identity tables shared by every CR3: the page at CR3 itself only needs its first entry. */
static void shared_tables(void)
{
	for (int i = 0; i < 1024; i++)
		w32(PT32 + i * 4, (uint32_t)(i << 12) | 3);
	for (int i = 0; i < 4; i++) {
		w64(PD + i * 8, ((uint64_t)i << 21) | 0x83);
		w64(NPD + i * 8, ((uint64_t)i << 21) | 0x87);
	}
	w64(PDPT, PD | 3);
	w64(PML4, PDPT | 3);
	w64(NPDPT, NPD | 7);
	w64(NPML4, NPDPT | 7);
}

/*
 * A PAE CR3 gets four present PDPTEs pointing to four page directories of its own (the first maps the low
 * 8 MiB), as kvmmu's model assumes: four distinct PAE roots under shadow paging.
 */
static uint64_t pae_cr3[(PAE_POOL_END - PAE_POOL) / 0x4000];
static int pae_n;

static uint64_t pae_block(uint64_t base)
{
	for (int i = 0; i < pae_n; i++)
		if (pae_cr3[i] == base)
			return PAE_POOL + (uint64_t)i * 0x4000;
	if (pae_n == (int)(sizeof(pae_cr3) / sizeof(pae_cr3[0])))
		return 0;
	pae_cr3[pae_n] = base;
	uint64_t b = PAE_POOL + (uint64_t)pae_n++ * 0x4000;
	memset(ram + b, 0, 0x4000);
	for (int i = 0; i < 4; i++)
		w64(b + i * 8, ((uint64_t)i << 21) | 0x83);
	return b;
}

/* Make CR3 map the low 8 MiB in the paging mode given by cr0/cr4/efer (nothing without paging). */
static void tables_for(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	if (!(cr0 & CR0_PG) || !(cr0 & CR0_PE))
		return;
	if ((efer & EFER_LME) && (cr4 & CR4_PAE)) {
		uint64_t base = cr3 & 0x000ffffffffff000ull;
		if (base + 8 > RAM_SIZE)
			return;
		w64(base, ((cr4 & CR4_LA57) ? PML4 : PDPT) | 3);
	} else if (cr4 & CR4_PAE) {
		uint64_t base = cr3 & 0xffffffe0ull;
		uint64_t b = pae_block(base);
		if (base + 32 > RAM_SIZE || !b)
			return;
		for (int i = 0; i < 4; i++)
			w64(base + i * 8, (b + i * 0x1000) | 1);
	} else {
		uint64_t base = cr3 & 0xfffff000ull;
		if (base + 4 > RAM_SIZE)
			return;
		w32(base, (uint32_t)PT32 | 3);
	}
}

static void nested_tables(uint64_t ncr3, uint64_t l1_cr4, uint64_t l1_efer)
{
	if ((l1_efer & EFER_LMA) || (l1_efer & EFER_LME)) {
		uint64_t base = ncr3 & 0x000ffffffffff000ull;
		if (base + 8 <= RAM_SIZE)
			w64(base, ((l1_cr4 & CR4_LA57) ? NPML4 : NPDPT) | 7);
	} else {
		uint64_t base = ncr3 & 0xffffffe0ull;
		if (base + 32 <= RAM_SIZE)
			w64(base, NPD | 1);
	}
}

static int set_region(uint32_t slot, uint64_t gpa, uint64_t size, void *mem)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uint64_t)mem};
	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static void set_seg(struct kvm_segment *s, uint16_t sel, int type, int code64, int db, int real)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = 0;
	s->limit = real ? 0xffff : 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->l = code64;
	s->db = db;
	s->g = real ? 0 : 1;
}

/* Segments matching the mode the CRs describe (the driver owns segments; scenarios do not name them). */
static void segments_for(struct kvm_sregs *sr)
{
	int lma = (sr->efer & EFER_LMA) && (sr->cr0 & CR0_PG);
	int pe = sr->cr0 & CR0_PE;
	if (lma) {
		set_seg(&sr->cs, 0x8, 11, 1, 0, 0);
	} else if (pe) {
		set_seg(&sr->cs, 0x8, 11, 0, 1, 0);
	} else {
		set_seg(&sr->cs, 0, 11, 0, 0, 1);
	}
	struct kvm_segment data;
	if (pe || lma)
		set_seg(&data, 0x10, 3, 0, 1, 0);
	else
		set_seg(&data, 0, 3, 0, 0, 1);
	sr->ds = sr->es = sr->fs = sr->gs = sr->ss = data;
	memset(&sr->tr, 0, sizeof(sr->tr));
	sr->tr.type = 11;
	sr->tr.present = 1;
	sr->tr.limit = 0x67;
	sr->tr.selector = 0x18;
	memset(&sr->ldt, 0, sizeof(sr->ldt));
	sr->ldt.unusable = 1;
	sr->ldt.type = 2;
	sr->gdt.limit = 0x1f;
	sr->idt.limit = 0;
}

static struct kvm_cpuid2 *supported_cpuid(void)
{
	int n = 100;
	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
		n *= 2;
	}
}

static int create_vm(int vcpus, int nested)
{
	(void)nested;
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return fail("open /dev/kvm: %s", strerror(errno));
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return fail("KVM_CREATE_VM: %s", strerror(errno));
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	memset(ram + STUB_L1, 0xf4, 0x1000);
	memset(ram + SMBASE + 0x8000, 0xf4, 0x1000); /* the SMI handler: HLT, later RSM stubs */
	shared_tables();
	if (set_region(0, 0, RAM_SIZE, ram) < 0)
		return fail("memory slot 0: %s", strerror(errno));
	if (set_region((1u << 16) | 0, 0, RAM_SIZE, ram) < 0)
		return fail("SMRAM slot: %s", strerror(errno));
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	cpuid = supported_cpuid();
	if (!cpuid)
		return fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	nvcpus = vcpus;
	for (int i = 0; i < vcpus; i++) {
		vcpu_fd[i] = ioctl(vm_fd, KVM_CREATE_VCPU, i);
		if (vcpu_fd[i] < 0)
			return fail("KVM_CREATE_VCPU %d: %s", i, strerror(errno));
		vcpu_run[i] = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd[i], 0);
		if (ioctl(vcpu_fd[i], KVM_SET_CPUID2, cpuid) < 0)
			return fail("KVM_SET_CPUID2: %s", strerror(errno));
		struct kvm_sregs sr;
		ioctl(vcpu_fd[i], KVM_GET_SREGS, &sr);
		segments_for(&sr);
		ioctl(vcpu_fd[i], KVM_SET_SREGS, &sr);
	}
	return 0;
}

static uint64_t parse_num(const char *s, int *present)
{
	if (!s || strcmp(s, "-") == 0) {
		if (present)
			*present = 0;
		return 0;
	}
	if (present)
		*present = 1;
	return strtoull(s, NULL, 0);
}

/* --- the stub assembler ------------------------------------------------------------------------------- */

struct code {
	uint8_t b[512];
	int n;
	int bits; /* 16, 32 or 64 */
};

static void emit(struct code *c, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		c->b[c->n++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}
static void emit32(struct code *c, uint32_t v)
{
	memcpy(c->b + c->n, &v, 4);
	c->n += 4;
}
static void osize(struct code *c)
{
	if (c->bits == 16)
		emit(c, 1, 0x66);
}
static void mov_eax(struct code *c, uint32_t v) { osize(c); emit(c, 1, 0xb8); emit32(c, v); }
static void mov_ecx(struct code *c, uint32_t v) { osize(c); emit(c, 1, 0xb9); emit32(c, v); }
static void mov_edx(struct code *c, uint32_t v) { osize(c); emit(c, 1, 0xba); emit32(c, v); }
static void mov_rax64(struct code *c, uint64_t v)
{
	if (c->bits == 64) {
		emit(c, 2, 0x48, 0xb8);
		emit32(c, (uint32_t)v);
		emit32(c, (uint32_t)(v >> 32));
	} else {
		mov_eax(c, (uint32_t)v);
	}
}

/* The registers as they will be after a queued write, so that the tables are ready for each step. */
struct regs4 {
	uint64_t cr0, cr3, cr4, efer;
};

static void apply(struct regs4 *r, const struct queued *q)
{
	uint64_t *reg = q->reg == 0 ? &r->cr0 : q->reg == 3 ? &r->cr3 : q->reg == 4 ? &r->cr4 : &r->efer;
	uint64_t v = q->op == '=' ? q->value : q->op == '|' ? (*reg | q->value) : (*reg & q->value);
	if (q->reg == 8)
		v = (v & ~EFER_LMA) | (r->efer & EFER_LMA);
	*reg = v;
	if ((r->cr0 & CR0_PG) && (r->efer & EFER_LME))
		r->efer |= EFER_LMA;
	if (!(r->cr0 & CR0_PG))
		r->efer &= ~EFER_LMA;
}

static void assemble_write(struct code *c, const struct queued *q)
{
	if (q->reg == 8) {
		mov_ecx(c, MSR_EFER);
		if (q->op == '=') {
			mov_eax(c, (uint32_t)q->value);
			mov_edx(c, (uint32_t)(q->value >> 32));
		} else {
			emit(c, 2, 0x0f, 0x32); /* rdmsr */
			osize(c);
			emit(c, 1, q->op == '|' ? 0x0d : 0x25); /* or/and eax, imm32 */
			emit32(c, (uint32_t)q->value);
		}
		emit(c, 2, 0x0f, 0x30); /* wrmsr */
		return;
	}
	int modrm = 0xc0 | (q->reg << 3);
	if (q->op == '=') {
		if (q->reg == 3)
			mov_rax64(c, q->value);
		else
			mov_eax(c, (uint32_t)q->value);
	} else {
		emit(c, 3, 0x0f, 0x20, modrm); /* mov eax/rax, crN */
		osize(c);
		emit(c, 1, q->op == '|' ? 0x0d : 0x25);
		emit32(c, (uint32_t)q->value);
	}
	emit(c, 3, 0x0f, 0x22, modrm); /* mov crN, eax/rax */
}

static void fill_vmcb(int v, const struct queued *q, const struct kvm_sregs *l1)
{
	uint8_t *vmcb = ram + VMCB + (uint64_t)v * 0x1000;
	memset(vmcb, 0, 0x1000);
	uint64_t base = VMCB + (uint64_t)v * 0x1000;
	w32(base + 0x10, 0x3); /* intercept VMRUN and VMMCALL */
	w64(base + 0x40, IOPM);
	w64(base + 0x48, MSRPM);
	w32(base + 0x58, 1); /* guest ASID */
	if (q->npt) {
		w64(base + 0x90, 1);
		w64(base + 0xb0, q->ncr3);
		nested_tables(q->ncr3, l1->cr4, l1->efer);
	}
	uint64_t cr0 = q->has_cr0 ? q->cr0 : l1->cr0;
	uint64_t cr3 = q->has_cr3 ? q->cr3 : l1->cr3;
	uint64_t cr4 = q->has_cr4 ? q->cr4 : l1->cr4;
	uint64_t efer = (q->has_efer ? q->efer : l1->efer) | EFER_SVME;
	tables_for(cr0, cr3, cr4, efer);
	int lma = (efer & EFER_LMA) && (cr0 & CR0_PG);
	int pe = cr0 & CR0_PE;
	uint16_t cs_attr = lma ? 0xa9b : pe ? 0xc9b : 0x9b;
	uint16_t ds_attr = pe ? 0xc93 : 0x93;
	uint32_t limit = pe ? 0xffffffff : 0xffff;
	for (int s = 0; s < 6; s++) { /* es cs ss ds fs gs */
		uint64_t off = base + 0x400 + s * 16;
		w16(off, s == 1 ? 0x8 : pe ? 0x10 : 0);
		w16(off + 2, s == 1 ? cs_attr : ds_attr);
		w32(off + 4, limit);
	}
	w32(base + 0x460 + 4, 0x1f);   /* gdtr limit */
	w16(base + 0x490 + 2, 0x8b);   /* tr: busy TSS */
	w32(base + 0x490 + 4, 0x67);
	w64(base + 0x4d0, efer);
	w64(base + 0x548, cr4);
	w64(base + 0x550, cr3);
	w64(base + 0x558, cr0);
	w64(base + 0x560, 0x400);
	w64(base + 0x568, 0xffff0ff0);
	w64(base + 0x570, 2);
	w64(base + 0x578, STUB_L2 + (uint64_t)v * 0x80);
	w64(base + 0x668, 0x0007040600070406ull);
	memset(ram + STUB_L2 + (uint64_t)v * 0x80, 0xf4, 0x80);
}

static int in_smm(int v)
{
	struct kvm_vcpu_events ev;
	if (ioctl(vcpu_fd[v], KVM_GET_VCPU_EVENTS, &ev) < 0)
		return 0;
	return ev.smi.smm;
}

static int guest_mode(int v)
{
	/* In guest mode the L1 stub is not what runs: KVM_GET_NESTED_STATE says so. */
	struct {
		struct kvm_nested_state h;
		uint8_t data[0x2000];
	} st;
	memset(&st, 0, sizeof(st));
	st.h.size = sizeof(st);
	if (ioctl(vcpu_fd[v], KVM_GET_NESTED_STATE, &st) < 0)
		return 0;
	return (st.h.flags & KVM_STATE_NESTED_GUEST_MODE) != 0;
}

static const char *exit_name(int r)
{
	switch (r) {
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_SHUTDOWN: return "shutdown";
	case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
	case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
	case KVM_EXIT_IO: return "io";
	case KVM_EXIT_MMIO: return "mmio";
	default: return "other";
	}
}

static int enter(int v);

static int run_vcpu(int v)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;
	/* A pending SMI is taken at entry, before any queued instruction: deliver it first (the handler halts). */
	if (smi_pending[v] && queued_n[v] > 0 && enter(v) < 0)
		return -1;
	smi_pending[v] = 0;
	if (ioctl(vcpu_fd[v], KVM_GET_SREGS, &sr) < 0)
		return fail("KVM_GET_SREGS: %s", strerror(errno));
	int smm = in_smm(v), l2 = guest_mode(v);
	struct code c = {.n = 0};
	c.bits = (sr.cs.l && (sr.efer & EFER_LMA)) ? 64 : sr.cs.db ? 32 : 16;
	struct regs4 r = {sr.cr0, sr.cr3, sr.cr4, sr.efer};
	for (int i = 0; i < queued_n[v]; i++) {
		struct queued *q = &queue[v][i];
		if (!strcmp(q->kind, "wcr")) {
			apply(&r, q);
			tables_for(r.cr0, r.cr3, r.cr4, r.efer);
			assemble_write(&c, q);
		} else if (!strcmp(q->kind, "rsm")) {
			emit(&c, 2, 0x0f, 0xaa);
		} else if (!strcmp(q->kind, "invlpg")) {
			mov_rax64(&c, q->value);
			if (c.bits == 16)
				emit(&c, 1, 0x67);
			emit(&c, 3, 0x0f, 0x01, 0x38);
		} else if (!strcmp(q->kind, "vmexit")) {
			emit(&c, 3, 0x0f, 0x01, 0xd9); /* vmmcall: L1 intercepts it */
		} else if (!strcmp(q->kind, "vmrun")) {
			struct kvm_sregs l1 = sr;
			l1.cr0 = r.cr0, l1.cr3 = r.cr3, l1.cr4 = r.cr4, l1.efer = r.efer;
			fill_vmcb(v, q, &l1);
			/* KVM refuses VMRUN (#GP) until L1 has set MSR_VM_HSAVE_PA. */
			mov_ecx(&c, 0xc0010117u);
			mov_eax(&c, (uint32_t)(HSAVE + (uint64_t)v * 0x1000));
			mov_edx(&c, 0);
			emit(&c, 2, 0x0f, 0x30);
			mov_rax64(&c, VMCB + (uint64_t)v * 0x1000);
			emit(&c, 3, 0x0f, 0x01, 0xd8); /* vmrun */
			/* L1 resumes here after #VMEXIT with GIF clear (SMIs blocked): set it again, as a hypervisor does. */
			emit(&c, 3, 0x0f, 0x01, 0xdc); /* stgi */
		}
	}
	emit(&c, 1, 0xf4);
	queued_n[v] = 0;
	uint64_t linear, rip;
	if (smm) {
		linear = SMBASE + 0x8000 + SMM_STUB;
		rip = 0x8000 + SMM_STUB;
	} else if (l2) {
		linear = STUB_L2 + (uint64_t)v * 0x80;
		rip = linear;
	} else {
		linear = STUB_L1 + (uint64_t)v * 0x100;
		rip = linear;
	}
	if (linear - sr.cs.base != rip && !smm)
		rip = linear - sr.cs.base;
	memcpy(ram + linear, c.b, c.n);
	memset(ram + linear + c.n, 0xf4, 16);
	tables_for(sr.cr0, sr.cr3, sr.cr4, sr.efer);
	if (ioctl(vcpu_fd[v], KVM_GET_REGS, &regs) < 0)
		return fail("KVM_GET_REGS: %s", strerror(errno));
	regs.rip = rip;
	regs.rflags = 2;
	if (ioctl(vcpu_fd[v], KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS: %s", strerror(errno));
	return enter(v);
}

/* KVM_RUN until the guest halts; anything else ends the scenario. */
static int enter(int v)
{
	for (int tries = 0; tries < 16; tries++) {
		vcpu_run[v]->immediate_exit = 0;
		if (ioctl(vcpu_fd[v], KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			return fail("KVM_RUN: %s", strerror(errno));
		}
		int reason = vcpu_run[v]->exit_reason;
		if (reason == KVM_EXIT_HLT)
			return 0;
		if (reason == KVM_EXIT_IO || reason == KVM_EXIT_MMIO)
			continue;
		if (reason == KVM_EXIT_FAIL_ENTRY)
			return fail("exit %s 0x%llx", exit_name(reason),
				    (unsigned long long)vcpu_run[v]->fail_entry.hardware_entry_failure_reason);
		if (reason == KVM_EXIT_INTERNAL_ERROR)
			return fail("exit internal_error suberror %u", vcpu_run[v]->internal.suberror);
		return fail("exit %s (%d)", exit_name(reason), reason);
	}
	return fail("the vCPU did not halt");
}

static int do_sregs(int v, char **a)
{
	struct kvm_sregs sr;
	int p;
	if (ioctl(vcpu_fd[v], KVM_GET_SREGS, &sr) < 0)
		return fail("KVM_GET_SREGS: %s", strerror(errno));
	uint64_t x;
	x = parse_num(a[0], &p); if (p) sr.cr0 = x;
	x = parse_num(a[1], &p); if (p) sr.cr3 = x;
	x = parse_num(a[2], &p); if (p) sr.cr4 = x;
	x = parse_num(a[3], &p); if (p) sr.efer = x;
	segments_for(&sr);
	tables_for(sr.cr0, sr.cr3, sr.cr4, sr.efer);
	if (ioctl(vcpu_fd[v], KVM_SET_SREGS, &sr) < 0)
		return fail("KVM_SET_SREGS: %s", strerror(errno));
	return 0;
}

static int do_cpuid(int v, int maxphyaddr)
{
	for (unsigned i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x80000008)
			cpuid->entries[i].eax = (cpuid->entries[i].eax & ~0xffu) | (unsigned)maxphyaddr;
	if (ioctl(vcpu_fd[v], KVM_SET_CPUID2, cpuid) < 0)
		return fail("KVM_SET_CPUID2: %s", strerror(errno));
	return 0;
}

static int do_slot(int s, uint64_t gpa)
{
	if (s <= 0 || s >= MAX_SLOTS)
		return fail("slot %d out of range", s);
	if (!slot_mem[s])
		slot_mem[s] = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	slot_gpa[s] = gpa;
	if (set_region(s, gpa, SLOT_SIZE, slot_mem[s]) < 0)
		return fail("create slot %d: %s", s, strerror(errno));
	return 0;
}

static int do_destroy(void)
{
	for (int i = 0; i < nvcpus; i++) {
		munmap(vcpu_run[i], run_size);
		close(vcpu_fd[i]);
		vcpu_fd[i] = -1;
	}
	close(vm_fd);
	vm_fd = -1;
	return 0;
}

/* The kvm.ko parameter: a changed value makes KVM zap every VM's roots (set_nx_huge_pages). */
static int do_nx_huge_pages(int on)
{
	int fd = open("/sys/module/kvm/parameters/nx_huge_pages", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("open nx_huge_pages: %s", strerror(errno));
	ssize_t n = write(fd, on ? "1\n" : "0\n", 2);
	int err = errno;
	close(fd);
	if (n != 2)
		return fail("write nx_huge_pages: %s", strerror(err));
	return 0;
}

static int vcpu_arg(const char *s)
{
	int v = atoi(s ? s : "0");
	return v >= 0 && v < nvcpus ? v : -1;
}

static int execute(char **a, int n)
{
	const char *cmd = a[0];
	if (!strcmp(cmd, "vm"))
		return create_vm(n > 1 ? atoi(a[1]) : 1, n > 2 ? atoi(a[2]) : 0);
	if (!strcmp(cmd, "mark")) {
		char text[256] = "";
		for (int i = 1; i < n; i++) {
			strncat(text, a[i], sizeof(text) - strlen(text) - 2);
			if (i + 1 < n)
				strcat(text, " ");
		}
		mark(text);
		return 0;
	}
	if (!strcmp(cmd, "dump") && n >= 2) {
		uint64_t gpa = strtoull(a[1], NULL, 0), x[4];
		memcpy(x, ram + gpa, sizeof(x));
		out("dump 0x%llx: %llx %llx %llx %llx", (unsigned long long)gpa, (unsigned long long)x[0],
		    (unsigned long long)x[1], (unsigned long long)x[2], (unsigned long long)x[3]);
		return 0;
	}
	if (!strcmp(cmd, "destroyvm"))
		return do_destroy();
	if (!strcmp(cmd, "nxhuge") && n >= 2)
		return do_nx_huge_pages(atoi(a[1]));
	if (!strcmp(cmd, "nrmmupages") && n >= 2) {
		if (ioctl(vm_fd, KVM_SET_NR_MMU_PAGES, strtoul(a[1], NULL, 0)) < 0)
			return fail("KVM_SET_NR_MMU_PAGES: %s", strerror(errno));
		return 0;
	}
	if (!strcmp(cmd, "slot") && n >= 3)
		return do_slot(atoi(a[1]), strtoull(a[2], NULL, 0));
	if (!strcmp(cmd, "delslot") && n >= 2) {
		int s = atoi(a[1]);
		if (set_region(s, slot_gpa[s], 0, slot_mem[s]) < 0)
			return fail("delete slot %d: %s", s, strerror(errno));
		return 0;
	}
	if (!strcmp(cmd, "moveslot") && n >= 3) {
		int s = atoi(a[1]);
		slot_gpa[s] = strtoull(a[2], NULL, 0);
		if (set_region(s, slot_gpa[s], SLOT_SIZE, slot_mem[s]) < 0)
			return fail("move slot %d: %s", s, strerror(errno));
		return 0;
	}
	int v = vcpu_arg(a[1]);
	if (v < 0)
		return fail("bad vCPU in '%s'", cmd);
	if (!strcmp(cmd, "run"))
		return run_vcpu(v);
	if (!strcmp(cmd, "smi")) {
		if (ioctl(vcpu_fd[v], KVM_SMI, 0) < 0)
			return fail("KVM_SMI: %s", strerror(errno));
		smi_pending[v] = 1;
		return 0;
	}
	if (!strcmp(cmd, "sregs") && n >= 6)
		return do_sregs(v, a + 2);
	if (!strcmp(cmd, "cpuid") && n >= 3)
		return do_cpuid(v, atoi(a[2]));
	if (!strcmp(cmd, "q") && n >= 3) {
		if (queued_n[v] >= 32)
			return fail("too many queued instructions");
		struct queued *q = &queue[v][queued_n[v]++];
		memset(q, 0, sizeof(*q));
		snprintf(q->kind, sizeof(q->kind), "%s", a[2]);
		if (!strcmp(a[2], "wcr") && n >= 6) {
			q->reg = atoi(a[3]);
			q->op = a[4][0];
			q->value = strtoull(a[5], NULL, 0);
		} else if (!strcmp(a[2], "invlpg") && n >= 4) {
			q->value = strtoull(a[3], NULL, 0);
		} else if (!strcmp(a[2], "vmrun") && n >= 9) {
			q->npt = atoi(a[3]);
			q->ncr3 = strtoull(a[4], NULL, 0);
			q->cr0 = parse_num(a[5], &q->has_cr0);
			q->cr3 = parse_num(a[6], &q->has_cr3);
			q->cr4 = parse_num(a[7], &q->has_cr4);
			q->efer = parse_num(a[8], &q->has_efer);
		} else if (strcmp(a[2], "rsm") && strcmp(a[2], "vmexit")) {
			queued_n[v]--;
			return fail("bad queued instruction '%s'", a[2]);
		}
		return 0;
	}
	return fail("unknown instruction '%s'", cmd);
}

int main(void)
{
	char line[512];
	marker_fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY | O_CLOEXEC);
	if (marker_fd < 0)
		marker_fd = open("/sys/kernel/debug/tracing/trace_marker", O_WRONLY | O_CLOEXEC);
	while (fgets(line, sizeof(line), stdin)) {
		char *a[16];
		int n = 0;
		for (char *t = strtok(line, " \t\r\n"); t && n < 16; t = strtok(NULL, " \t\r\n"))
			a[n++] = t;
		if (n == 0 || a[0][0] == '#')
			continue;
		if (!strcmp(a[0], "end"))
			break;
		if (stopped)
			continue;
		if (execute(a, n) == 0)
			out("ok %s%s%s", a[0], n > 1 ? " " : "", n > 1 ? a[1] : "");
	}
	if (stopped)
		out("stop");
	mark("end");
	return stopped ? 1 : 0;
}
