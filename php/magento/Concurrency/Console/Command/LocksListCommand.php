<?php

declare(strict_types=1);

namespace Monei\Concurrency\Console\Command;

use Monei\Concurrency\Model\Backend;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * bin/magento monei:locks:list [PATTERN] [--limit=N] [--json]
 *
 * The locks held in Redis under the configured key prefix, oldest first
 * (\Monei\Concurrency\locks(): SCAN, never KEYS).
 */
class LocksListCommand extends Command
{
    public function __construct(private Backend $backend)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setName('monei:locks:list')
            ->setDescription('Lists the Redis locks held now (orders, payments, Magento named locks), oldest first')
            ->addArgument('pattern', InputArgument::OPTIONAL, 'Glob on resource names, e.g. "order:*", "payment:100000123:*", "order:magento:*"')
            ->addOption('limit', null, InputOption::VALUE_REQUIRED, 'At most this many locks (1-10000)', '100')
            ->addOption('json', null, InputOption::VALUE_NONE, 'One JSON document instead of text');
        parent::configure();
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $limit = (string) $input->getOption('limit');
        if (!preg_match('/^\d+$/', $limit) || (int) $limit < 1 || (int) $limit > 10000) {
            $output->writeln('<error>--limit must be between 1 and 10000</error>');
            return Command::INVALID;
        }
        $pattern = $input->getArgument('pattern');
        try {
            $locks = $this->backend->listLocks($pattern === null ? null : (string) $pattern, (int) $limit);
        } catch (\Monei\Concurrency\ConcurrencyException | \Monei\Concurrency\InvalidArgumentException $e) {
            $output->writeln('<error>' . $e->getMessage() . '</error>');
            return Command::FAILURE;
        }
        if ($input->getOption('json')) {
            $rows = [];
            foreach ($locks as $lock) {
                [$kind, $name] = LockRows::describe((string) $lock['resource']);
                $rows[] = ['kind' => $kind, 'name' => $name] + $lock;
            }
            $output->writeln((string) json_encode($rows, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE), OutputInterface::OUTPUT_RAW);
            return Command::SUCCESS;
        }
        if ($locks === []) {
            $output->writeln('No locks held.');
            return Command::SUCCESS;
        }
        foreach ($locks as $lock) {
            $output->writeln(LockRows::line($lock), OutputInterface::OUTPUT_RAW);
        }
        $output->writeln(sprintf('%d lock(s)%s.', count($locks), count($locks) === (int) $limit ? ' (limit reached)' : ''));
        return Command::SUCCESS;
    }
}
