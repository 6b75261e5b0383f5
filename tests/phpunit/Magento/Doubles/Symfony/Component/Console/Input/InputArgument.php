<?php

declare(strict_types=1);

namespace Symfony\Component\Console\Input;

/** Double of Symfony Console's InputArgument. */
class InputArgument
{
    public const REQUIRED = 1;
    public const OPTIONAL = 2;
    public const IS_ARRAY = 4;

    private int $mode;

    public function __construct(private string $name, ?int $mode = null, private string $description = '', private $default = null)
    {
        $this->mode = $mode ?? self::OPTIONAL;
        if ($this->isRequired() && $default !== null) {
            throw new \LogicException('Cannot set a default value except for InputArgument::OPTIONAL mode.');
        }
    }

    public function getName()
    {
        return $this->name;
    }

    public function isRequired()
    {
        return ($this->mode & self::REQUIRED) === self::REQUIRED;
    }

    public function isArray()
    {
        return ($this->mode & self::IS_ARRAY) === self::IS_ARRAY;
    }

    public function getDefault()
    {
        return $this->default ?? ($this->isArray() ? [] : null);
    }

    public function getDescription()
    {
        return $this->description;
    }
}
