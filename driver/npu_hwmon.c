// SPDX-License-Identifier: GPL-2.0
/* hwmon sensors: temperature, power, voltage and current of the card. */

#include <linux/error-injection.h>
#include <linux/hwmon.h>

#include "npu_hw_ops.h"
#include "npu_hwmon.h"

static umode_t npu_hwmon_is_visible(const void *data, enum hwmon_sensor_types type,
				    u32 attr, int channel)
{
	return 0444;
}

static const struct {
	enum hwmon_sensor_types type;
	u32 reg;
	const char *label;
} npu_sensors[] = {
	{ hwmon_temp, NPU_REG_TEMP_MC, "npu" },
	{ hwmon_power, NPU_REG_POWER_UW, "npu power" },
	{ hwmon_in, NPU_REG_VOLTAGE_MV, "npu core" },
	{ hwmon_curr, NPU_REG_CURRENT_MA, "npu core current" },
};

static int npu_hwmon_sensor(enum hwmon_sensor_types type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(npu_sensors); i++)
		if (npu_sensors[i].type == type)
			return i;
	return -EOPNOTSUPP;
}

static int npu_hwmon_read(struct device *dev, enum hwmon_sensor_types type, u32 attr,
			  int channel, long *val)
{
	struct npu_device *ndev = dev_get_drvdata(dev);
	int i = npu_hwmon_sensor(type);
	u32 raw;
	int ret;

	if (i < 0)
		return i;
	ret = npu_hw_read_reg(ndev, npu_sensors[i].reg, &raw);
	if (!ret)
		*val = raw;
	return ret;
}

static int npu_hwmon_read_string(struct device *dev, enum hwmon_sensor_types type,
				 u32 attr, int channel, const char **str)
{
	int i = npu_hwmon_sensor(type);

	if (i < 0)
		return i;
	*str = npu_sensors[i].label;
	return 0;
}

static const struct hwmon_ops npu_hwmon_ops = {
	.is_visible = npu_hwmon_is_visible,
	.read = npu_hwmon_read,
	.read_string = npu_hwmon_read_string,
};

static const struct hwmon_channel_info *npu_hwmon_info[] = {
	HWMON_CHANNEL_INFO(temp, HWMON_T_INPUT | HWMON_T_LABEL),
	HWMON_CHANNEL_INFO(power, HWMON_P_INPUT | HWMON_P_LABEL),
	HWMON_CHANNEL_INFO(in, HWMON_I_INPUT | HWMON_I_LABEL),
	HWMON_CHANNEL_INFO(curr, HWMON_C_INPUT | HWMON_C_LABEL),
	NULL
};

static const struct hwmon_chip_info npu_hwmon_chip = {
	.ops = &npu_hwmon_ops,
	.info = npu_hwmon_info,
};

/* Under the PCI device, unregistered (devres) after remove. */
int npu_hwmon_register(struct npu_device *ndev)
{
	struct device *hwmon;

	hwmon = devm_hwmon_device_register_with_info(npu_dev(ndev), "npu", ndev,
						     &npu_hwmon_chip, NULL);
	return PTR_ERR_OR_ZERO(hwmon);
}

ALLOW_ERROR_INJECTION(npu_hwmon_register, ERRNO);
