<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

/**
 * Runs closures in forked child processes and collects what they return.
 *
 * Children leave with SIGKILL once their result is written, so they never run
 * PHPUnit's shutdown work nor the extension's request shutdown: whatever lock
 * a child still holds at that point stays until its lease runs out.
 */
final class Forker
{
    /**
     * @param list<callable(int): mixed> $jobs one closure per child, given its index
     * @return list<mixed> each child's return value, in job order
     */
    public static function run(array $jobs, int $timeoutS = 120): array
    {
        $children = [];
        foreach ($jobs as $i => $job) {
            $children[$i] = self::spawn($job, $i);
        }
        $deadline = microtime(true) + $timeoutS;
        $results = [];
        try {
            foreach ($children as $i => $child) {
                $results[$i] = $child->wait(max(0.1, $deadline - microtime(true)));
            }
        } finally {
            foreach ($children as $child) {
                $child->kill();
            }
        }
        return $results;
    }

    /** Starts $job($index) in a child process now; collect it with wait(). */
    public static function spawn(callable $job, int $index = 0): ForkedChild
    {
        $file = tempnam(sys_get_temp_dir(), 'monei-fork');
        $pid = pcntl_fork();
        if ($pid === -1) {
            unlink($file);
            throw new \RuntimeException('pcntl_fork failed');
        }
        if ($pid === 0) {
            try {
                $result = ['ok', $job($index)];
            } catch (\Throwable $e) {
                $result = ['error', get_class($e) . ': ' . $e->getMessage() . ' at ' . $e->getFile() . ':' . $e->getLine()];
            }
            file_put_contents($file, serialize($result));
            // Leave without PHPUnit's shutdown work or the parent's output buffers.
            posix_kill(posix_getpid(), SIGKILL);
            exit(1); // not reached
        }
        return new ForkedChild($pid, $file, $index);
    }
}

final class ForkedChild
{
    private bool $reaped = false;
    private ?int $status = null;

    public function __construct(public readonly int $pid, private string $file, private int $index)
    {
    }

    public function __destruct()
    {
        $this->kill();
        if (is_file($this->file)) {
            unlink($this->file);
        }
    }

    public function pid(): int
    {
        return $this->pid;
    }

    public function running(): bool
    {
        if ($this->reaped) {
            return false;
        }
        if (pcntl_waitpid($this->pid, $status, WNOHANG) === 0) {
            return true;
        }
        $this->status = $status;
        $this->reaped = true;
        return false;
    }

    /** Waits for the child and returns what its job returned; throws if it failed or died. */
    public function wait(float $timeoutS = 60): mixed
    {
        $deadline = microtime(true) + $timeoutS;
        while ($this->running()) {
            if (microtime(true) > $deadline) {
                $this->kill();
                throw new \RuntimeException("child {$this->index} did not finish within {$timeoutS}s");
            }
            usleep(2000);
        }
        $data = @unserialize((string) file_get_contents($this->file));
        if (!is_array($data)) {
            throw new \RuntimeException("child {$this->index} died before reporting (" . $this->describeStatus() . ')');
        }
        if ($data[0] === 'error') {
            throw new \RuntimeException("child {$this->index} failed: {$data[1]}");
        }
        return $data[1];
    }

    /** How the child ended, e.g. "killed by signal 11" or "exit code 255". */
    public function describeStatus(): string
    {
        if ($this->status === null) {
            return 'status unknown';
        }
        if (pcntl_wifsignaled($this->status)) {
            return 'killed by signal ' . pcntl_wtermsig($this->status);
        }
        return 'exit code ' . pcntl_wexitstatus($this->status);
    }

    /** Kills the child (if still running) and reaps it. */
    public function kill(int $signal = SIGKILL): void
    {
        if ($this->reaped) {
            return;
        }
        posix_kill($this->pid, $signal);
        pcntl_waitpid($this->pid, $status);
        $this->reaped = true;
    }
}
