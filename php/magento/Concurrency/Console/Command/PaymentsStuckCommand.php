<?php

declare(strict_types=1);

namespace Monei\Concurrency\Console\Command;

use Monei\Concurrency\Model\Config;
use Monei\Concurrency\Model\StuckPayments\Finder;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * bin/magento monei:payments:stuck [--older-than=30m] [--json]
 *
 * The orders whose payment has had no outcome for longer than the threshold
 * (Model\StuckPayments\Finder), oldest first, with their increment ids.
 * Exit codes: 0 checked (whether or not something is stuck: the output
 * says), 1 the database or Redis could not be read (nothing is reported as
 * checked), 2 bad input.
 */
class PaymentsStuckCommand extends Command
{
    private const UNITS = ['s' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400];
    /** Longest threshold accepted: a year. */
    private const MAX_S = 366 * 86400;

    public function __construct(private Finder $finder, private Config $config)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setName('monei:payments:stuck')
            ->setDescription('Lists orders whose payment has had no outcome (pending_payment, or PENDING/AUTHORIZED) for too long')
            ->addOption('older-than', null, InputOption::VALUE_REQUIRED, 'Threshold: seconds, or a number with s, m, h or d (e.g. 30m); default monei_concurrency/stuck_payments/older_than_s, else 30m')
            ->addOption('json', null, InputOption::VALUE_NONE, 'One JSON document instead of text');
        parent::configure();
    }

    /** "90", "90s", "30m", "2h", "1d" as seconds; null for anything else. */
    public static function seconds(string $duration): ?int
    {
        if (!preg_match('/^(\d{1,9})([smhd]?)$/', $duration, $m)) {
            return null;
        }
        $s = (int) $m[1] * self::UNITS[$m[2] === '' ? 's' : $m[2]];
        return $s <= self::MAX_S ? $s : null;
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $option = $input->getOption('older-than');
        try {
            $olderThan = $option === null ? $this->config->stuckOlderThanS() : self::seconds((string) $option);
        } catch (\InvalidArgumentException $e) {
            $output->writeln('<error>' . $e->getMessage() . '</error>');
            return Command::INVALID;
        }
        if ($olderThan === null) {
            $output->writeln('<error>--older-than must be a duration such as 90, 90s, 30m, 2h or 1d (at most 366d), got "'
                . LockRows::printable((string) $option) . '"</error>');
            return Command::INVALID;
        }
        try {
            $report = $this->finder->find($olderThan);
        } catch (\Throwable $e) {
            // PDO/Zend exceptions, BackendUnavailableException: never "0 stuck".
            $output->writeln('<error>Could not check for stuck payments: ' . LockRows::printable($e->getMessage()) . '</error>');
            return Command::FAILURE;
        }
        if ($input->getOption('json')) {
            $output->writeln((string) json_encode([
                'older_than_s' => $report->olderThanS,
                'count' => $report->count(),
                'oldest_age_s' => $report->oldestAgeS(),
                'truncated' => $report->truncated,
                'payments' => $report->payments,
            ], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE), OutputInterface::OUTPUT_RAW);
            return Command::SUCCESS;
        }
        if ($report->count() === 0) {
            $output->writeln("No stuck payments older than {$olderThan} s.");
            return Command::SUCCESS;
        }
        foreach ($report->payments as $p) {
            $output->writeln(sprintf(
                '%-20s %-16s %-30s %-12s %s',
                LockRows::printable($p['order']),
                $p['state'],
                LockRows::printable($p['payment_id'] ?? '-'),
                $p['payment_status'] ?? '-',
                self::age($p['age_s']),
            ), OutputInterface::OUTPUT_RAW);
        }
        $output->writeln(sprintf('%d stuck payment(s) older than %d s%s; oldest %s.', $report->count(), $olderThan,
            $report->truncated ? ' (only the oldest ' . Finder::MAX_ORDERS . ' orders were looked at)' : '', self::age($report->oldestAgeS())));
        return Command::SUCCESS;
    }

    private static function age(int $s): string
    {
        return $s >= 86400 ? sprintf('%dd %dh', intdiv($s, 86400), intdiv($s % 86400, 3600))
            : ($s >= 3600 ? sprintf('%dh %dm', intdiv($s, 3600), intdiv($s % 3600, 60)) : sprintf('%dm %ds', intdiv($s, 60), $s % 60));
    }
}
