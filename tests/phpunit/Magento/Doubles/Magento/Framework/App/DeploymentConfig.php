<?php

declare(strict_types=1);

namespace Magento\Framework\App;

/**
 * Double of Magento's DeploymentConfig: the merged app/etc/env.php and
 * config.php arrays are given directly (the real one reads them through
 * DeploymentConfig\Reader). get() answers as the real one does: from a
 * flattened copy ("a/b/c" for every level), with environment variables
 * MAGENTO_DC_A__B__C overriding the leaf a/b/c only, so code that reads a
 * whole section misses the overrides.
 */
class DeploymentConfig
{
    private const ENV_PREFIX = 'MAGENTO_DC_';

    private array $flat = [];

    /** @param array<string, string>|null $environment the environment variables (default: getenv()) */
    public function __construct(private array $data = [], ?array $environment = null)
    {
        $this->flatten($this->data, '');
        foreach ($environment ?? getenv() as $name => $value) {
            if (str_starts_with((string) $name, self::ENV_PREFIX) && $name !== self::ENV_PREFIX . '_OVERRIDE') {
                $this->flat = [strtolower(str_replace([self::ENV_PREFIX, '__'], ['', '/'], (string) $name)) => $value] + $this->flat;
            }
        }
    }

    public function get($key = null, $defaultValue = null)
    {
        if ($key === null) {
            return $this->flat;
        }
        if (array_key_exists($key, $this->flat) && $this->flat[$key] === null) {
            return '';
        }
        return $this->flat[$key] ?? $defaultValue;
    }

    private function flatten(array $data, string $path): void
    {
        foreach ($data as $key => $value) {
            $p = $path === '' ? (string) $key : "$path/$key";
            $this->flat[$p] = $value;
            if (is_array($value)) {
                $this->flatten($value, $p);
            }
        }
    }
}
