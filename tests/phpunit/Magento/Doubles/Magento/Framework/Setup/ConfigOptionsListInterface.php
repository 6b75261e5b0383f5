<?php

declare(strict_types=1);

namespace Magento\Framework\Setup;

use Magento\Framework\App\DeploymentConfig;

/** Double of Magento's ConfigOptionsListInterface (setup:config:set options of a module). */
interface ConfigOptionsListInterface
{
    /** @return \Magento\Framework\Setup\Option\AbstractConfigOption[] */
    public function getOptions();

    /** @return \Magento\Framework\Config\Data\ConfigData[] */
    public function createConfig(array $options, DeploymentConfig $deploymentConfig);

    /** @return string[] error messages */
    public function validate(array $options, DeploymentConfig $deploymentConfig);
}
