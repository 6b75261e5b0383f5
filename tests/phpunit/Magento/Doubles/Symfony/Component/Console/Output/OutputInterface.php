<?php

declare(strict_types=1);

namespace Symfony\Component\Console\Output;

/** Double of Symfony Console's OutputInterface (5.4 signatures; the formatter accessors are left out). */
interface OutputInterface
{
    public const VERBOSITY_QUIET = 16;
    public const VERBOSITY_NORMAL = 32;
    public const VERBOSITY_VERBOSE = 64;
    public const VERBOSITY_VERY_VERBOSE = 128;
    public const VERBOSITY_DEBUG = 256;

    public const OUTPUT_NORMAL = 1;
    public const OUTPUT_RAW = 2;
    public const OUTPUT_PLAIN = 4;

    public function write($messages, bool $newline = false, int $options = 0);

    public function writeln($messages, int $options = 0);

    public function setVerbosity(int $level);

    public function getVerbosity();

    public function isQuiet();

    public function isVerbose();

    public function isVeryVerbose();

    public function isDebug();

    public function setDecorated(bool $decorated);

    public function isDecorated();
}
