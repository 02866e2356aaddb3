"""Minibatch standard deviation: the batch's spread as one more channel."""

from __future__ import annotations

import torch

from ganforge.nets.mbstd import MinibatchStd, group_size


def test_the_appended_channel_is_each_groups_feature_spread():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4)
    out = MinibatchStd(group=4)(x)
    assert out.shape == (8, 4, 4, 4) and torch.equal(out[:, :3], x)
    # groups are strided as in StyleGAN: samples {0, 2, 4, 6} and {1, 3, 5, 7}
    for members in ([0, 2, 4, 6], [1, 3, 5, 7]):
        g = x[members]
        want = g.var(0, unbiased=False).add(1e-8).sqrt().mean()
        for i in members:
            assert torch.allclose(out[i, 3], torch.full((4, 4), float(want)), atol=1e-6)


def test_a_batch_of_one_thing_repeated_has_no_spread_and_any_map_shape_works():
    same = torch.randn(1, 2, 3, 4, 4).expand(6, -1, -1, -1, -1)  # clips: (N, C, T, H, W)
    out = MinibatchStd()(same)
    assert out.shape == (6, 3, 3, 4, 4)
    assert out[:, 2].max() < 1e-3  # sqrt(1e-8) only
    varied = MinibatchStd()(torch.randn(6, 2, 3, 4, 4))
    assert varied[:, 2].min() > 0.5


def test_the_group_is_the_largest_size_up_to_four_that_divides_the_batch():
    assert [group_size(n, 4) for n in (1, 2, 3, 4, 6, 7, 8, 9, 10)] == [1, 2, 3, 4, 3, 1, 4, 3, 2]


def test_a_critic_with_it_scores_a_sample_by_its_batch():
    from ganforge.modalities.video.nets import ClipCritics

    torch.manual_seed(0)
    D = ClipCritics(frames=4, size=16, channels=1, width=8, image=True, mbstd=True)
    assert not D.independent_samples
    assert ClipCritics(frames=4, size=16, channels=1, width=8, image=False).independent_samples
    clips = torch.randn(4, 1, 4, 16, 16)
    other = clips.clone()
    other[1:] = clips[0]  # the same first clip among copies of itself
    with torch.no_grad():
        a, b = D.video(clips), D.video(other)
    assert not torch.allclose(a[0], b[0])  # clip 0 itself did not change, its batch did
