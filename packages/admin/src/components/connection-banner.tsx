// "Connection lost — retrying": shown as soon as any request fails without an answer from the
// server (GalleyNetworkError, on a query or a mutation), gone by itself once the server answers
// again. While it shows, the health endpoint is polled; when it answers every query is refetched.
// (TanStack Query's onlineManager follows the browser's network state only, not a stopped server.)

import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { GalleyNetworkError } from '@galley/sdk';
import { galley } from '../client.ts';

const POLL_MS = 1_500;

export function ConnectionBanner() {
  const client = useQueryClient();
  const [lost, setLost] = useState(false);

  useEffect(() => {
    const queries = client.getQueryCache().subscribe((event) => {
      if (event.type !== 'updated') return;
      const { action } = event;
      if ((action.type === 'failed' || action.type === 'error') && action.error instanceof GalleyNetworkError) setLost(true);
    });
    const mutations = client.getMutationCache().subscribe((event) => {
      if (event.type === 'updated' && event.mutation.state.error instanceof GalleyNetworkError) setLost(true);
    });
    return () => {
      queries();
      mutations();
    };
  }, [client]);

  // While lost, the health endpoint is asked until it answers; then every query is fetched again.
  useQuery({
    queryKey: ['connection-health'],
    queryFn: async ({ signal }) => {
      const answer = await galley.health({ signal });
      setLost(false);
      void client.invalidateQueries({ predicate: (query) => query.queryKey[0] !== 'connection-health' });
      return answer;
    },
    enabled: lost,
    refetchInterval: POLL_MS,
    retry: false,
    gcTime: 0,
  });

  // The live region is always in the page, so screen readers announce the change itself.
  return (
    <div role="status" aria-live="polite" className={lost ? 'connection-banner' : 'visually-hidden'}>
      {lost ? 'Connection lost — retrying…' : ''}
    </div>
  );
}
