<?php

declare(strict_types=1);

namespace Symfony\Component\Console\Input;

/** Double of Symfony Console's InputInterface: the accessors commands use (5.4 signatures). */
interface InputInterface
{
    public function getArguments();

    public function getArgument(string $name);

    public function setArgument(string $name, $value);

    public function hasArgument(string $name);

    public function getOptions();

    public function getOption(string $name);

    public function setOption(string $name, $value);

    public function hasOption(string $name);

    public function isInteractive();

    public function setInteractive(bool $interactive);
}
