<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

/**
 * Runs closures in forked child processes and collects what they return.
 */
final class Forker
{
    /**
     * @param list<callable(int): mixed> $jobs one closure per child, given its index
     * @return list<mixed> each child's return value, in job order
     */
    public static function run(array $jobs, int $timeoutS = 120): array
    {
        $files = [];
        $pids = [];
        foreach ($jobs as $i => $job) {
            $files[$i] = tempnam(sys_get_temp_dir(), 'monei-fork');
            $pid = pcntl_fork();
            if ($pid === -1) {
                throw new \RuntimeException('pcntl_fork failed');
            }
            if ($pid === 0) {
                $status = 0;
                try {
                    $result = ['ok', $job($i)];
                } catch (\Throwable $e) {
                    $result = ['error', get_class($e) . ': ' . $e->getMessage()];
                    $status = 1;
                }
                file_put_contents($files[$i], serialize($result));
                // Leave without PHPUnit's shutdown work or the parent's output buffers.
                posix_kill(posix_getpid(), $status === 0 ? SIGKILL : SIGKILL);
            }
            $pids[$i] = $pid;
        }
        $deadline = time() + $timeoutS;
        foreach ($pids as $i => $pid) {
            while (pcntl_waitpid($pid, $st, WNOHANG) === 0) {
                if (time() > $deadline) {
                    foreach ($pids as $p) {
                        posix_kill($p, SIGKILL);
                    }
                    throw new \RuntimeException("child $i did not finish within {$timeoutS}s");
                }
                usleep(10000);
            }
        }
        $results = [];
        foreach ($files as $i => $file) {
            $data = unserialize((string) file_get_contents($file));
            unlink($file);
            if (!is_array($data)) {
                throw new \RuntimeException("child $i died before reporting");
            }
            if ($data[0] === 'error') {
                throw new \RuntimeException("child $i failed: {$data[1]}");
            }
            $results[$i] = $data[1];
        }
        return $results;
    }
}
