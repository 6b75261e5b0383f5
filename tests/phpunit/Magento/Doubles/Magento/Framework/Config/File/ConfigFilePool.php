<?php

declare(strict_types=1);

namespace Magento\Framework\Config\File;

/** Double of Magento's ConfigFilePool: only the key of app/etc/env.php. */
class ConfigFilePool
{
    public const APP_ENV = 'app_env';
}
