<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

/**
 * A separate `php` process running a script, with the extension loaded the
 * same way as the test run (PHP_INI_SCAN_DIR and REDIS_URL are inherited).
 * Unlike a fork it starts a fresh request and ends it the normal PHP way, so
 * it exercises exit(), fatal errors and the request shutdown of the extension.
 */
final class PhpProcess
{
    /** @var resource */
    private $proc;
    private ?int $exitCode = null;

    private function __construct(
        private string $script,
        private string $outFile,
        private string $errFile,
    ) {
    }

    /**
     * @param string $code PHP source, starting with `<?php`
     * @param list<string> $args available to the script as $argv[1..]
     * @param list<string> $phpOptions extra php command line options, e.g. ['-d', 'max_execution_time=1']
     */
    public static function start(string $code, array $args = [], array $phpOptions = []): self
    {
        $script = tempnam(sys_get_temp_dir(), 'monei-php') . '.php';
        file_put_contents($script, $code);
        $p = new self($script, $script . '.out', $script . '.err');
        $cmd = array_merge([PHP_BINARY, '-d', 'display_errors=stderr', '-d', 'log_errors=0'], $phpOptions, [$script], $args);
        $proc = proc_open($cmd, [
            0 => ['file', '/dev/null', 'r'],
            1 => ['file', $p->outFile, 'w'],
            2 => ['file', $p->errFile, 'w'],
        ], $pipes);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start php');
        }
        $p->proc = $proc;
        return $p;
    }

    /** Runs a script to its end; returns [exit code, stdout, stderr]. */
    public static function run(string $code, array $args = [], array $phpOptions = [], float $timeoutS = 30): array
    {
        return self::start($code, $args, $phpOptions)->wait($timeoutS);
    }

    public function __destruct()
    {
        $this->kill();
        foreach ([$this->script, $this->outFile, $this->errFile, substr($this->script, 0, -4)] as $f) {
            if (is_file($f)) {
                unlink($f);
            }
        }
    }

    public function pid(): int
    {
        return proc_get_status($this->proc)['pid'];
    }

    public function running(): bool
    {
        if ($this->exitCode !== null) {
            return false;
        }
        $st = proc_get_status($this->proc);
        if ($st['running']) {
            return true;
        }
        $this->exitCode = $st['signaled'] ? 128 + $st['termsig'] : $st['exitcode'];
        proc_close($this->proc);
        return false;
    }

    /** @return array{0: int, 1: string, 2: string} exit code (128+signal if killed), stdout, stderr */
    public function wait(float $timeoutS = 30): array
    {
        $deadline = microtime(true) + $timeoutS;
        while ($this->running()) {
            if (microtime(true) > $deadline) {
                $this->kill();
                throw new \RuntimeException("php child did not finish within {$timeoutS}s; stderr: " . $this->stderr());
            }
            usleep(2000);
        }
        return [(int) $this->exitCode, $this->stdout(), $this->stderr()];
    }

    public function stdout(): string
    {
        return (string) @file_get_contents($this->outFile);
    }

    public function stderr(): string
    {
        return (string) @file_get_contents($this->errFile);
    }

    public function kill(int $signal = SIGKILL): void
    {
        if ($this->exitCode !== null || !isset($this->proc)) {
            return;
        }
        if ($this->running()) {
            proc_terminate($this->proc, $signal);
            while ($this->running()) {
                usleep(1000);
            }
        }
    }
}
