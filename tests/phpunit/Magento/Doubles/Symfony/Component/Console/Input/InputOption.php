<?php

declare(strict_types=1);

namespace Symfony\Component\Console\Input;

/** Double of Symfony Console's InputOption. */
class InputOption
{
    public const VALUE_NONE = 1;
    public const VALUE_REQUIRED = 2;
    public const VALUE_OPTIONAL = 4;
    public const VALUE_IS_ARRAY = 8;
    public const VALUE_NEGATABLE = 16;

    private int $mode;

    public function __construct(private string $name, private $shortcut = null, ?int $mode = null, private string $description = '', private $default = null)
    {
        $this->mode = $mode ?? self::VALUE_NONE;
        if ($this->mode & self::VALUE_NONE && $default !== null) {
            throw new \LogicException('Cannot set a default value when using InputOption::VALUE_NONE mode.');
        }
    }

    public function getShortcut()
    {
        return $this->shortcut;
    }

    public function getName()
    {
        return $this->name;
    }

    public function acceptValue()
    {
        return ($this->mode & (self::VALUE_REQUIRED | self::VALUE_OPTIONAL)) !== 0;
    }

    public function isValueRequired()
    {
        return ($this->mode & self::VALUE_REQUIRED) === self::VALUE_REQUIRED;
    }

    public function getDefault()
    {
        return $this->acceptValue() ? $this->default : false;
    }

    public function getDescription()
    {
        return $this->description;
    }
}
