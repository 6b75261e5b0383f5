<?php

declare(strict_types=1);

namespace Magento\Framework\Config\Data;

/** Double of Magento's ConfigData: the values one ConfigOptionsList writes into one config file. */
class ConfigData
{
    private array $data = [];
    private bool $overrideWhenSave = false;

    public function __construct(private $fileKey)
    {
    }

    public function getFileKey()
    {
        return $this->fileKey;
    }

    public function getData()
    {
        return $this->data;
    }

    public function setOverrideWhenSave($overrideWhenSave)
    {
        $this->overrideWhenSave = (bool) $overrideWhenSave;
    }

    public function isOverrideWhenSave()
    {
        return $this->overrideWhenSave;
    }

    /** Sets the value at "a/b/c" (at least one level, no empty part). */
    public function set($path, $value)
    {
        $parts = explode('/', (string) $path);
        if (in_array('', $parts, true)) {
            throw new \InvalidArgumentException("Path '$path' is invalid");
        }
        $node = &$this->data;
        foreach ($parts as $part) {
            if (!isset($node[$part]) || !is_array($node[$part])) {
                $node[$part] = [];
            }
            $node = &$node[$part];
        }
        $node = $value;
    }
}
