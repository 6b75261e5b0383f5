<?php

declare(strict_types=1);

namespace Symfony\Component\Console\Output;

/**
 * Double of Symfony Console's BufferedOutput, undecorated: style tags such as
 * <error>...</error> are removed unless OUTPUT_RAW is given, as Symfony's
 * formatter does for a plain output.
 */
class BufferedOutput implements OutputInterface
{
    private string $buffer = '';
    private int $verbosity = self::VERBOSITY_NORMAL;

    public function fetch()
    {
        $content = $this->buffer;
        $this->buffer = '';
        return $content;
    }

    public function write($messages, bool $newline = false, int $options = 0)
    {
        foreach ((array) $messages as $message) {
            $message = (string) $message;
            if (($options & self::OUTPUT_RAW) === 0) {
                $message = (string) preg_replace('#</?(error|info|comment|question)>#', '', $message);
            }
            $this->buffer .= $message . ($newline ? "\n" : '');
        }
    }

    public function writeln($messages, int $options = 0)
    {
        $this->write($messages, true, $options);
    }

    public function setVerbosity(int $level)
    {
        $this->verbosity = $level;
    }

    public function getVerbosity()
    {
        return $this->verbosity;
    }

    public function isQuiet()
    {
        return $this->verbosity === self::VERBOSITY_QUIET;
    }

    public function isVerbose()
    {
        return $this->verbosity >= self::VERBOSITY_VERBOSE;
    }

    public function isVeryVerbose()
    {
        return $this->verbosity >= self::VERBOSITY_VERY_VERBOSE;
    }

    public function isDebug()
    {
        return $this->verbosity >= self::VERBOSITY_DEBUG;
    }

    public function setDecorated(bool $decorated)
    {
    }

    public function isDecorated()
    {
        return false;
    }
}
