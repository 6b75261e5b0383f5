<?php

declare(strict_types=1);

namespace Magento\Framework\App;

/**
 * Double of Magento's DeploymentConfig: the merged app/etc/env.php and
 * config.php arrays, given directly (the real one reads them through
 * DeploymentConfig\Reader). get() takes a top-level key or a "a/b/c" path.
 */
class DeploymentConfig
{
    public function __construct(private array $data = [])
    {
    }

    public function get($key = null, $defaultValue = null)
    {
        if ($key === null) {
            return $this->data;
        }
        $value = $this->data;
        foreach (explode('/', (string) $key) as $part) {
            if (!is_array($value) || !array_key_exists($part, $value)) {
                return $defaultValue;
            }
            $value = $value[$part];
        }
        return $value ?? $defaultValue;
    }
}
