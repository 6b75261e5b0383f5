<?php

declare(strict_types=1);

namespace Magento\Framework\Setup\Option;

use Symfony\Component\Console\Input\InputOption;

/** Double of Magento's AbstractConfigOption: a console option that knows its env.php path. */
abstract class AbstractConfigOption extends InputOption
{
    private $frontendType;
    private $configPath;

    public function __construct($name, $frontendType, $mode, $configPath, $description = '', $defaultValue = null, $shortcut = null)
    {
        $this->frontendType = $frontendType;
        $this->configPath = $configPath;
        parent::__construct($name, $shortcut, $mode, $description, $defaultValue);
    }

    public function getFrontendType()
    {
        return $this->frontendType;
    }

    public function getConfigPath()
    {
        return $this->configPath;
    }

    public function validate($data)
    {
    }
}
