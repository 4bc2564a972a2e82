/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU model of the NPU PCI Express function: identity, BARs, global
 * registers, interrupts, device reset and sensors. The processing elements
 * live in npu_pe.c. docs/hardware.md is the specification; hw/npu_hw.h
 * the register map.
 *
 *   -device npu[,dram=256M][,clock-mhz=1000][,serial=...][,fw-version=...]
 *              [,faults=on]
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pcie_aer.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

#include "npu.h"

#define NPU_DRAM_MIN            (2 * MiB)
#define NPU_DRAM_MAX            (64 * GiB)
#define NPU_RESET_NS            (1 * SCALE_MS)
#define NPU_PCIE_CAP_OFFSET     0x80    /* v2 capability: 0x3c bytes, below 0x100 */
#define NPU_AER_OFFSET          0x100   /* first extended capability */

/* ---- time ------------------------------------------------------------------ */

uint64_t npu_ns_to_cycles(NpuState *s, int64_t ns)
{
    return ns <= 0 ? 0 : muldiv64(ns, s->clock_mhz, 1000);
}

uint64_t npu_dev_clock(NpuState *s)
{
    return npu_ns_to_cycles(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - s->power_on_ns);
}

static uint32_t npu_heartbeat(NpuState *s)
{
    int64_t ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - s->power_on_ns;

    return s->heartbeat_stopped ? s->heartbeat_frozen : (uint32_t)(ns / SCALE_MS);
}

/* ---- effects of device-wide faults (npu_fault.c decides when) ------------- */

/* The firmware died: HEARTBEAT keeps its value until a device reset. */
void npu_stop_heartbeat(NpuState *s)
{
    s->heartbeat_frozen = npu_heartbeat(s);
    s->heartbeat_stopped = true;
}

/* An internal fatal error: the PEs stop where they are until a device reset. */
void npu_go_fatal(NpuState *s)
{
    s->fatal = true;
    npu_raise_error(s, NPU_ERR_FATAL);
}

/*
 * The link to the host is down: every BAR reads all-ones and ignores writes
 * (the overlays cover them), the engine stops and no message is sent.
 * Config space keeps working, so that an FLR can bring the link back.
 */
void npu_set_link_down(NpuState *s, bool down)
{
    unsigned int i;

    s->link_down = down;
    for (i = 0; i < ARRAY_SIZE(s->link_down_mr); i++) {
        memory_region_set_enabled(&s->link_down_mr[i], down);
    }
}

static uint64_t npu_link_down_read(void *opaque, hwaddr addr, unsigned int size)
{
    return UINT64_MAX;
}

static void npu_link_down_write(void *opaque, hwaddr addr, uint64_t val,
                                unsigned int size)
{
}

/* Accesses of min to max bytes, taken by the handlers as they come. */
#define NPU_ACCESS_SIZES(min, max, unaligned_ok)                                  \
    .valid = { .min_access_size = (min), .max_access_size = (max),             \
               .unaligned = (unaligned_ok) },                                  \
    .impl = { .min_access_size = (min), .max_access_size = (max) }

static const MemoryRegionOps npu_link_down_ops = {
    .read = npu_link_down_read,
    .write = npu_link_down_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    NPU_ACCESS_SIZES(1, 8, true),
};

/* Puts a disabled all-ones overlay over the whole of a BAR's container. */
static void npu_link_overlay_init(NpuState *s, unsigned int i, MemoryRegion *bar)
{
    MemoryRegion *mr = &s->link_down_mr[i];

    memory_region_init_io(mr, OBJECT(s), &npu_link_down_ops, s, "npu-link-down",
                          memory_region_size(bar));
    memory_region_set_enabled(mr, false);
    memory_region_add_subregion_overlap(bar, 0, mr, 1);
}

/* ---- interrupts -------------------------------------------------------------- */

static unsigned int npu_irq_vector(uint32_t bit)
{
    if (bit == NPU_IRQ_PE_CQ(0)) {
        return NPU_MSIX_VEC_PE(0);
    }
    if (bit == NPU_IRQ_PE_CQ(1)) {
        return NPU_MSIX_VEC_PE(1);
    }
    return NPU_MSIX_VEC_EVENT;
}

/* Sends one message per vector among `bits` that are enabled. */
static void npu_notify(NpuState *s, uint32_t bits)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool sent[NPU_MSIX_VECTORS] = { false };
    unsigned int i;

    bits &= s->irq_enable;
    if (s->link_down) {
        return;
    }
    for (i = 0; i < 32; i++) {
        unsigned int vec;

        if (!(bits & (1u << i))) {
            continue;
        }
        vec = npu_irq_vector(1u << i);
        if (!sent[vec] && msix_enabled(pdev)) {
            msix_notify(pdev, vec);
            sent[vec] = true;
        }
    }
}

void npu_raise_irq(NpuState *s, uint32_t bits)
{
    s->irq_status |= bits;
    npu_notify(s, bits);
}

void npu_raise_error(NpuState *s, uint32_t cause)
{
    s->err_cause = cause;
    npu_raise_irq(s, NPU_IRQ_ERROR);
}

/* ---- sensors: functions of the averaged busy fraction, computed on read ---- */

static double npu_load(NpuState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    return (npu_pe_load(&s->pe[0], now) + npu_pe_load(&s->pe[1], now)) / 2;
}

static uint32_t npu_sensor(NpuState *s, hwaddr reg)
{
    double load = npu_load(s);
    uint32_t power_uw = (uint32_t)(12e6 + 48e6 * load);     /* 12 W idle .. 60 W */
    uint32_t voltage_mv = (uint32_t)(850 - 25 * load);      /* droop under load */

    switch (reg) {
    case NPU_REG_TEMP_MC:
        return (uint32_t)(40000 + 45000 * load);            /* 40 .. 85 degC */
    case NPU_REG_POWER_UW:
        return power_uw;
    case NPU_REG_VOLTAGE_MV:
        return voltage_mv;
    default:    /* NPU_REG_CURRENT_MA: uW / mV = mA */
        return power_uw / voltage_mv;
    }
}

/* ---- device reset ------------------------------------------------------------ */

/* Stops both PEs and clears everything the driver configured except IRQ_ENABLE. */
static void npu_reset_state(NpuState *s)
{
    unsigned int i;

    s->fused = false;
    for (i = 0; i < NPU_MAX_PES; i++) {
        npu_pe_reset(&s->pe[i]);
    }
    s->fatal = false;
    s->heartbeat_stopped = false;
    s->err_cause = NPU_ERR_NONE;
    s->irq_status = 0;
}

static void npu_reset_done(void *opaque)
{
    NpuState *s = opaque;

    s->ready = true;
    npu_raise_irq(s, NPU_IRQ_RESET_DONE);
    npu_faults_fire_device(s);     /* armed ones strike again */
}

/* DEV_CTRL.RESET: not READY for NPU_RESET_NS, then RESET_DONE. */
static void npu_soft_reset(NpuState *s)
{
    npu_reset_state(s);
    s->ready = false;
    timer_mod(s->reset_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + NPU_RESET_NS);
}

/*
 * PCI-level reset (FLR, bus or secondary bus reset) or system reset: back to
 * the power-on state at once, the link up again. The fault switches stay.
 */
static void npu_qdev_reset(DeviceState *dev)
{
    NpuState *s = NPU(dev);

    timer_del(s->reset_timer);
    npu_reset_state(s);
    s->irq_enable = 0;
    s->ready = true;
    npu_set_link_down(s, false);
    pcie_cap_deverr_reset(PCI_DEVICE(s));
    npu_faults_fire_device(s);
}

/* ---- global registers ----------------------------------------------------------- */

static uint32_t npu_string_word(const uint8_t *bytes, hwaddr off)
{
    return ldl_le_p(bytes + off);
}

static uint64_t npu_read32(NpuState *s, hwaddr addr)
{
    switch (addr) {
    case NPU_REG_MAGIC:
        return NPU_MAGIC;
    case NPU_REG_HW_REV:
        return NPU_HW_REV_MAJOR << 16 | NPU_HW_REV_MINOR;
    case NPU_REG_PE_COUNT:
        return NPU_MAX_PES;
    case NPU_REG_CAPS:
        return NPU_CAP_FUSED | (s->faults.enabled ? NPU_CAP_FAULTS : 0);
    case NPU_REG_DRAM_SIZE:
        return (uint32_t)s->dram_size;
    case NPU_REG_DRAM_SIZE + 4:
        return s->dram_size >> 32;
    case NPU_REG_CLOCK_MHZ:
        return s->clock_mhz;
    case NPU_REG_HEARTBEAT:
        return npu_heartbeat(s);
    case NPU_REG_DEV_CLOCK:
        return (uint32_t)npu_dev_clock(s);
    case NPU_REG_DEV_CLOCK + 4:
        return npu_dev_clock(s) >> 32;
    case NPU_REG_DEV_STATUS:
        return (s->ready ? NPU_DEV_STATUS_READY : 0) |
               (s->fatal ? NPU_DEV_STATUS_FATAL : 0);
    case NPU_REG_DEV_MODE:
        return s->fused ? NPU_DEV_MODE_FUSED : 0;
    case NPU_REG_ERR_CAUSE:
        return s->err_cause;
    case NPU_REG_IRQ_STATUS:
        return s->irq_status;
    case NPU_REG_IRQ_ENABLE:
        return s->irq_enable;
    case NPU_REG_TEMP_MC:
    case NPU_REG_POWER_UW:
    case NPU_REG_VOLTAGE_MV:
    case NPU_REG_CURRENT_MA:
        return npu_sensor(s, addr);
    }
    if (npu_fault_reg(addr)) {
        return npu_fault_read(s, addr);
    }
    if (addr >= NPU_REG_FW_VERSION && addr < NPU_REG_FW_VERSION + NPU_ID_STRING_LEN) {
        return npu_string_word((uint8_t *)s->fw_version_str, addr - NPU_REG_FW_VERSION);
    }
    if (addr >= NPU_REG_SERIAL && addr < NPU_REG_SERIAL + NPU_ID_STRING_LEN) {
        return npu_string_word((uint8_t *)s->serial_str, addr - NPU_REG_SERIAL);
    }
    if (addr >= NPU_REG_UUID && addr < NPU_REG_UUID + NPU_UUID_LEN) {
        return npu_string_word(s->uuid, addr - NPU_REG_UUID);
    }
    return 0;
}

static uint64_t npu_mmio_read(void *opaque, hwaddr addr, unsigned int size)
{
    NpuState *s = opaque;

    if (addr >= NPU_PE_BASE(0) && addr < NPU_PE_BASE(NPU_MAX_PES)) {
        unsigned int pe = (addr - NPU_PE_BASE(0)) / 0x1000;

        return npu_pe_read(&s->pe[pe], addr - NPU_PE_BASE(pe), size);
    }
    /* DEV_CLOCK read as 8 bytes is one snapshot, not two. */
    if (size == 8 && addr == NPU_REG_DEV_CLOCK) {
        return npu_dev_clock(s);
    }
    if (size == 8) {
        return npu_read32(s, addr) | npu_read32(s, addr + 4) << 32;
    }
    return npu_read32(s, addr);
}

static bool npu_pes_idle(NpuState *s)
{
    unsigned int i;

    for (i = 0; i < NPU_MAX_PES; i++) {
        if (s->pe[i].enabled || s->pe[i].busy) {
            return false;
        }
    }
    return true;
}

static void npu_write32(NpuState *s, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case NPU_REG_DEV_CTRL:
        if (val & NPU_DEV_CTRL_RESET) {
            npu_soft_reset(s);
        }
        return;
    case NPU_REG_DEV_MODE:
        if (!!(val & NPU_DEV_MODE_FUSED) == s->fused) {
            return;
        }
        if (!npu_pes_idle(s)) {
            qemu_log_mask(LOG_GUEST_ERROR, "npu: DEV_MODE changed with a PE enabled\n");
            npu_raise_error(s, NPU_ERR_MODE);
            return;
        }
        s->fused = val & NPU_DEV_MODE_FUSED;
        return;
    case NPU_REG_IRQ_STATUS:
        s->irq_status &= ~val;
        return;
    case NPU_REG_IRQ_ENABLE: {
        uint32_t newly = val & ~s->irq_enable & NPU_IRQ_ALL;

        s->irq_enable = val & NPU_IRQ_ALL;
        /* Enabling a bit whose status is already set sends its message. */
        npu_notify(s, newly & s->irq_status);
        return;
    }
    default:
        if (npu_fault_reg(addr)) {
            npu_fault_write(s, addr, val);
            return;
        }
        qemu_log_mask(LOG_GUEST_ERROR, "npu: write to read-only or unassigned "
                      "register 0x%" HWADDR_PRIx "\n", addr);
    }
}

static void npu_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned int size)
{
    NpuState *s = opaque;

    if (!s->ready) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: register 0x%" HWADDR_PRIx
                      " written during reset, ignored\n", addr);
        return;
    }
    if (s->in_command) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: register 0x%" HWADDR_PRIx
                      " written by the device's own DMA, ignored\n", addr);
        return;
    }
    if (addr >= NPU_PE_BASE(0) && addr < NPU_PE_BASE(NPU_MAX_PES)) {
        unsigned int pe = (addr - NPU_PE_BASE(0)) / 0x1000;

        npu_pe_write(&s->pe[pe], addr - NPU_PE_BASE(pe), val, size);
        return;
    }
    npu_write32(s, addr, (uint32_t)val);
    if (size == 8) {
        npu_write32(s, addr + 4, (uint32_t)(val >> 32));
    }
}

static const MemoryRegionOps npu_mmio_ops = {
    .read = npu_mmio_read,
    .write = npu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    NPU_ACCESS_SIZES(4, 8, false),
};

/* ---- identity -------------------------------------------------------------------- */

/* FNV-1a, 64-bit: a stable hash for deriving defaults. */
static uint64_t npu_fnv1a(const char *str, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed;

    for (; *str; str++) {
        h ^= (uint8_t)*str;
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool npu_set_id_string(char dst[NPU_ID_STRING_LEN], const char *src,
                              const char *what, Error **errp)
{
    size_t i, len = strlen(src);

    if (len == 0 || len >= NPU_ID_STRING_LEN) {
        error_setg(errp, "npu: %s must have 1 to %d characters", what,
                   NPU_ID_STRING_LEN - 1);
        return false;
    }
    for (i = 0; i < len; i++) {
        if (src[i] < 0x20 || src[i] > 0x7e) {
            error_setg(errp, "npu: %s must be printable ASCII", what);
            return false;
        }
    }
    memset(dst, 0, NPU_ID_STRING_LEN);
    memcpy(dst, src, len);
    return true;
}

static bool npu_init_identity(NpuState *s, Error **errp)
{
    g_autofree char *path = NULL;
    g_autofree char *serial = NULL;
    uint64_t hi, lo;

    if (s->serial) {
        serial = g_strdup(s->serial);
    } else {
        /* Stable across runs, different per slot (e.g. "0000:00:03.0"). */
        path = qdev_get_dev_path(DEVICE(s));
        serial = g_strdup_printf("NPU-EMU-%08" PRIX32,
                                 (uint32_t)npu_fnv1a(path ? path : "", 0));
    }
    if (!npu_set_id_string(s->serial_str, serial, "serial", errp) ||
        !npu_set_id_string(s->fw_version_str, s->fw_version ? s->fw_version : "1.0.0-emu",
                           "fw-version", errp)) {
        return false;
    }
    /* RFC 9562 version 8 (custom) UUID, a hash of the serial. */
    hi = npu_fnv1a(s->serial_str, 0x6e7075);
    lo = npu_fnv1a(s->serial_str, 0x75756964);
    stq_be_p(s->uuid, hi);
    stq_be_p(s->uuid + 8, lo);
    s->uuid[6] = (s->uuid[6] & 0x0f) | 0x80;
    s->uuid[8] = (s->uuid[8] & 0x3f) | 0x80;
    return true;
}

/* ---- config space: FLR and AER ---------------------------------------------- */

static void npu_write_config(PCIDevice *pdev, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(pdev, addr, val, len);
    pcie_cap_flr_write_config(pdev, addr, val, len);   /* resets via npu_qdev_reset */
    pcie_aer_write_config(pdev, addr, val, len);
}

/* ---- realize -------------------------------------------------------------------- */

static void npu_realize(PCIDevice *pdev, Error **errp)
{
    ERRP_GUARD();
    NpuState *s = NPU(pdev);
    unsigned int i;

    if (s->dram_size < NPU_DRAM_MIN || s->dram_size > NPU_DRAM_MAX ||
        !is_power_of_2(s->dram_size)) {
        error_setg(errp, "npu: dram must be a power of two from 2 MiB to 64 GiB, "
                   "not %" PRIu64, s->dram_size);
        return;
    }
    if (s->clock_mhz < 1 || s->clock_mhz > 10000) {
        error_setg(errp, "npu: clock-mhz must be 1..10000, not %" PRIu32, s->clock_mhz);
        return;
    }
    if (!npu_init_identity(s, errp)) {
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);
    pdev->config_write = npu_write_config;
    /*
     * An integrated endpoint on q35's root bus, an endpoint behind a port;
     * with FLR, error reporting and AER (pcie_aer_inject_error) either way.
     */
    if (pcie_endpoint_cap_init(pdev, NPU_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "npu: cannot add the PCI Express capability");
        return;
    }
    pcie_cap_flr_init(pdev);
    pcie_cap_deverr_init(pdev);
    if (pcie_aer_init(pdev, PCI_ERR_VER, NPU_AER_OFFSET, PCI_ERR_SIZEOF, errp) < 0) {
        pcie_cap_exit(pdev);
        return;
    }

    /* Each BAR is a container: its contents, and the link-down overlay. */
    memory_region_init_io(&s->regs, OBJECT(s), &npu_mmio_ops, s, "npu-regs",
                          NPU_REGS_SIZE);
    memory_region_init(&s->regs_bar, OBJECT(s), "npu-bar0", NPU_REGS_SIZE);
    memory_region_add_subregion(&s->regs_bar, 0, &s->regs);
    npu_link_overlay_init(s, 0, &s->regs_bar);
    pci_register_bar(pdev, NPU_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->regs_bar);

    memory_region_init_ram(&s->dram, OBJECT(s), "npu-dram", s->dram_size, errp);
    if (*errp) {
        goto fail_pcie;
    }
    s->dram_ptr = memory_region_get_ram_ptr(&s->dram);
    memory_region_init(&s->dram_bar, OBJECT(s), "npu-bar2", s->dram_size);
    memory_region_add_subregion(&s->dram_bar, 0, &s->dram);
    npu_link_overlay_init(s, 1, &s->dram_bar);
    pci_register_bar(pdev, NPU_BAR_DRAM, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
                     &s->dram_bar);

    if (msix_init_exclusive_bar(pdev, NPU_MSIX_VECTORS, NPU_BAR_MSIX, errp)) {
        goto fail_pcie;
    }
    npu_link_overlay_init(s, 2, &pdev->msix_exclusive_bar);
    for (i = 0; i < NPU_MSIX_VECTORS; i++) {
        msix_vector_use(pdev, i);
    }

    s->power_on_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    s->reset_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, npu_reset_done, s);
    for (i = 0; i < NPU_MAX_PES; i++) {
        npu_pe_init(s, i);
    }
    npu_faults_init(s);
    s->ready = true;
    return;

fail_pcie:
    pcie_aer_exit(pdev);
    pcie_cap_exit(pdev);
}

static void npu_exit(PCIDevice *pdev)
{
    NpuState *s = NPU(pdev);
    unsigned int i;

    for (i = 0; i < NPU_MAX_PES; i++) {
        npu_pe_fini(&s->pe[i]);
    }
    timer_free(s->reset_timer);
    s->reset_timer = NULL;
    /* The BARs are unmapped already; empty their containers before finalize. */
    memory_region_del_subregion(&s->regs_bar, &s->link_down_mr[0]);
    memory_region_del_subregion(&s->regs_bar, &s->regs);
    memory_region_del_subregion(&s->dram_bar, &s->link_down_mr[1]);
    memory_region_del_subregion(&s->dram_bar, &s->dram);
    memory_region_del_subregion(&pdev->msix_exclusive_bar, &s->link_down_mr[2]);
    msix_uninit_exclusive_bar(pdev);
    pcie_aer_exit(pdev);
    pcie_cap_exit(pdev);
}

/* No VMState yet: in-flight commands and timers would need one. */
static const VMStateDescription npu_vmstate = {
    .name = "npu",
    .unmigratable = 1,
};

static Property npu_properties[] = {
    DEFINE_PROP_SIZE("dram", NpuState, dram_size, 256 * MiB),
    DEFINE_PROP_UINT32("clock-mhz", NpuState, clock_mhz, 1000),
    DEFINE_PROP_STRING("serial", NpuState, serial),
    DEFINE_PROP_STRING("fw-version", NpuState, fw_version),
    DEFINE_PROP_BOOL("faults", NpuState, faults_on, false),
    DEFINE_PROP_END_OF_LIST(),
};

static void npu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = npu_realize;
    k->exit = npu_exit;
    k->vendor_id = NPU_PCI_VENDOR_ID;
    k->device_id = NPU_PCI_DEVICE_ID;
    k->revision = NPU_PCI_REVISION;
    k->class_id = NPU_PCI_CLASS;
    dc->desc = "NPU (neural processing unit) model, two processing elements";
    dc->reset = npu_qdev_reset;
    dc->vmsd = &npu_vmstate;
    device_class_set_props(dc, npu_properties);
    npu_faults_class_init(klass);
    npu_pe_class_init(klass);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo npu_info = {
    .name = TYPE_NPU,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(NpuState),
    .class_init = npu_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { },
    },
};

static void npu_register_types(void)
{
    type_register_static(&npu_info);
}

type_init(npu_register_types)
