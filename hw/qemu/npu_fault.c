/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NPU model: fault injection for testing a driver's recovery
 * (docs/hardware.md, "Fault injection"). Only with `-device npu,faults=on`.
 *
 * The guest drives it through the FAULT_* registers, the host through QOM
 * properties of the same names (qom-set/qom-get over QMP). PE faults fire at
 * the one place in npu_pe.c where that fault would happen on real hardware;
 * device-wide faults (heartbeat, fatal, link down) fire as soon as they are
 * armed and their effect is not already in place, which after a reset means
 * again, for as long as the arming has firings left.
 *
 * No reset changes this state: it belongs to the test, not to the device.
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "qapi/visitor.h"

#include "npu.h"

#define NPU_FAULT_PE_MASK_ALL   ((1u << NPU_MAX_PES) - 1)
#define NPU_FAULT_DEVICE_WIDE   (NPU_FAULT_HEARTBEAT | NPU_FAULT_FATAL | \
                                 NPU_FAULT_LINK_DOWN)

void npu_faults_init(NpuState *s)
{
    NpuFaults *f = &s->faults;

    memset(f, 0, sizeof(*f));
    f->enabled = s->faults_on;
    f->pe_mask = NPU_FAULT_PE_MASK_ALL;
    f->count = 1;
}

static bool npu_fault_applies_to(const NpuFaultArming *a, NpuState *s, NpuPe *pe)
{
    /* The fused unit runs on both PEs: either one selects it. */
    uint32_t pes = s->fused && pe->index == 0 ? NPU_FAULT_PE_MASK_ALL : 1u << pe->index;

    return a->pe_mask & pes;
}

/*
 * Called where `fault` could happen; true if it fires now. `pe` is the PE
 * (or fused unit) concerned, NULL for device-wide faults. *delay_us gets the
 * arming's FAULT_DELAY_US.
 */
bool npu_fault_hit(NpuState *s, uint32_t fault, NpuPe *pe, uint32_t *delay_us)
{
    NpuFaults *f = &s->faults;
    NpuFaultArming *a = &f->arming[ctz32(fault)];

    if (!f->enabled || !(f->armed & fault)) {
        return false;
    }
    if (pe && !npu_fault_applies_to(a, s, pe)) {
        return false;
    }
    if (delay_us) {
        *delay_us = a->delay_us;
    }
    f->fired++;
    if (a->left && --a->left == 0) {
        f->armed &= ~fault;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "npu: injected fault 0x%x fired%s%s\n", fault,
                  pe ? " on PE" : "", pe ? (pe->index ? "1" : "0") : "");
    return true;
}

/* Device-wide faults take effect now if armed and not already in effect. */
void npu_faults_fire_device(NpuState *s)
{
    if (!s->faults.enabled) {
        return;
    }
    if (!s->heartbeat_stopped && npu_fault_hit(s, NPU_FAULT_HEARTBEAT, NULL, NULL)) {
        npu_stop_heartbeat(s);
    }
    /* FATAL waits for a device reset in progress and for the link. */
    if (!s->fatal && s->ready && !s->link_down &&
        npu_fault_hit(s, NPU_FAULT_FATAL, NULL, NULL)) {
        npu_go_fatal(s);
    }
    if (!s->link_down && npu_fault_hit(s, NPU_FAULT_LINK_DOWN, NULL, NULL)) {
        npu_set_link_down(s, true);
    }
}

static void npu_fault_arm(NpuState *s, uint32_t bits)
{
    NpuFaults *f = &s->faults;
    unsigned int i;

    bits &= NPU_FAULT_ALL;
    for (i = 0; i < NPU_FAULT_KINDS; i++) {
        if (bits & (1u << i)) {
            f->arming[i] = (NpuFaultArming) {
                .left = f->count,
                .pe_mask = f->pe_mask,
                .delay_us = f->delay_us,
            };
        }
    }
    f->armed |= bits;
    if (bits & NPU_FAULT_DEVICE_WIDE) {
        npu_faults_fire_device(s);
    }
}

bool npu_fault_reg(hwaddr addr)
{
    return addr >= NPU_REG_FAULT_ARM && addr <= NPU_REG_TEST_IRQ;
}

uint32_t npu_fault_read(NpuState *s, hwaddr addr)
{
    NpuFaults *f = &s->faults;

    if (!f->enabled) {
        return 0;
    }
    switch (addr) {
    case NPU_REG_FAULT_ARM:
        return f->armed;
    case NPU_REG_FAULT_PE_MASK:
        return f->pe_mask;
    case NPU_REG_FAULT_COUNT:
        return f->count;
    case NPU_REG_FAULT_DELAY_US:
        return f->delay_us;
    case NPU_REG_FAULT_FIRED:
        return f->fired;
    default:    /* FAULT_DISARM is write-only */
        return 0;
    }
}

void npu_fault_write(NpuState *s, hwaddr addr, uint32_t val)
{
    NpuFaults *f = &s->faults;

    if (!f->enabled) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: fault register 0x%" HWADDR_PRIx
                      " written without faults=on, ignored\n", addr);
        return;
    }
    switch (addr) {
    case NPU_REG_FAULT_ARM:
        npu_fault_arm(s, val);
        return;
    case NPU_REG_FAULT_DISARM:
        f->armed &= ~val;
        return;
    case NPU_REG_FAULT_PE_MASK:
        f->pe_mask = val & NPU_FAULT_PE_MASK_ALL;
        return;
    case NPU_REG_FAULT_COUNT:
        f->count = val;
        return;
    case NPU_REG_FAULT_DELAY_US:
        f->delay_us = val;
        return;
    case NPU_REG_TEST_IRQ:
        /* Interrupt rule 1 without a completion: the message goes out now. */
        npu_raise_irq(s, val & NPU_TEST_IRQ_ALL);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "npu: FAULT_FIRED is read-only\n");
    }
}

/* ---- QOM properties: the registers, for the host (qom-set / qom-get) ---- */

static void npu_fault_prop_get(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    uint32_t val = npu_fault_read(NPU(obj), (hwaddr)(uintptr_t)opaque);

    visit_type_uint32(v, name, &val, errp);
}

static void npu_fault_prop_set(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    NpuState *s = NPU(obj);
    uint32_t val;

    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    if (!DEVICE(obj)->realized) {
        error_setg(errp, "npu: %s can be set only on a created device (qom-set)", name);
        return;
    }
    if (!s->faults.enabled) {
        error_setg(errp, "npu: %s needs fault injection enabled (-device npu,faults=on)",
                   name);
        return;
    }
    npu_fault_write(s, (hwaddr)(uintptr_t)opaque, val);
}

void npu_faults_class_init(ObjectClass *klass)
{
    static const struct {
        const char *name;
        hwaddr reg;
        bool writable;
        const char *desc;
    } props[] = {
        { "fault-arm", NPU_REG_FAULT_ARM, true,
          "set: arm NPU_FAULT_* bits; get: the armed bits" },
        { "fault-disarm", NPU_REG_FAULT_DISARM, true, "set: disarm NPU_FAULT_* bits" },
        { "fault-pe-mask", NPU_REG_FAULT_PE_MASK, true,
          "PEs the next arming's PE faults apply to (bit per PE)" },
        { "fault-count", NPU_REG_FAULT_COUNT, true,
          "firings of the next arming, 0 = until disarmed" },
        { "fault-delay-us", NPU_REG_FAULT_DELAY_US, true,
          "extra latency of the next NPU_FAULT_LATE arming, microseconds" },
        { "fault-fired", NPU_REG_FAULT_FIRED, false, "firings since power-on" },
    };
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(props); i++) {
        object_class_property_add(klass, props[i].name, "uint32", npu_fault_prop_get,
                                  props[i].writable ? npu_fault_prop_set : NULL,
                                  NULL, (void *)(uintptr_t)props[i].reg);
        object_class_property_set_description(klass, props[i].name, props[i].desc);
    }
}
